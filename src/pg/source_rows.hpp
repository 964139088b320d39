// A registered table's rows as the store renders them: (id jsonb, doc json) for every row of the
// key's table (its partitions' too) that matches the key's filter, rendered as the table owner in a
// security-restricted operation under canonical output settings (what registration, reloads,
// store_verify and reconciling a partitioned key compare or store).
#pragma once

#include "pg/postgres_headers.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/tuplestore.h"
}

namespace store::pg {

// Puts every row of key's table into rows (descriptor rows_desc: id jsonb, doc json), in id
// order with by_id, after checking who may render it; reads the registration in the latest
// snapshot, the rows in the active one. Opens and closes its own SPI connection.
void RenderSourceRows(Datum key, bool by_id, Tuplestorestate *rows, TupleDesc rows_desc);

// Receives key's rows a batch at a time: count SPI tuples (id jsonb, doc json) of rows.
using SourceRowsConsumer = void (*)(void *state, SPITupleTable *rows, uint64 count);

// Renders key's rows as RenderSourceRows does (in no particular order) and hands each batch to
// consume, which runs as the caller (not as the table owner) with SPI still connected. Opens and
// closes its own SPI connection.
void ConsumeSourceRows(Datum key, SourceRowsConsumer consume, void *state);

} // namespace store::pg
