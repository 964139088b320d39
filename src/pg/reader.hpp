// What every reading function shares: the refusal to hand out versions in a writing transaction,
// queries run as the store owner on a reader's behalf, row-level security's visible ids, and the
// version of the calling statement's snapshot.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Refuses to hand out versions in a transaction that changed the store: its data would include
// changes that may still roll back, and its later writes would fall behind the version.
void RefuseInWritingTransaction();

// Runs a reader's query as the store owner (SPI, read-only, caller's snapshot): readers need no
// privilege on the store's tables, and the query decides what the caller may see. Returns the
// SPI code; results stay in SPI_tuptable until SPI_finish.
int ExecuteForReader(const char *sql, int nargs, Oid *argtypes, Datum *args, const char *nulls);

// The query listing the ids reader may see of the keys (all, or key) row-level security filters
// for it (valid until the next SPI call). Needs an open SPI connection; *is_null when none is.
Datum VisibilityQuery(Oid reader, Datum key, bool key_is_null, bool *is_null);

// The {"<key>": [visible ids]} map of the keys (all, or key) whose tables row-level security
// filters for reader: the owner builds the query, the reader runs it, so its policies apply.
// Needs an open SPI connection; *is_null when no key is filtered.
Datum VisibleIds(Oid reader, Datum key, bool key_is_null, bool *is_null);

// Runs sql for the calling user as the store owner, with $1 = arg (text), $2 = the caller and
// $3 = the visible ids of the keys (all, or key) row-level security filters for it (see
// VisibleIds). Needs an open SPI connection; returns the SPI code.
int ExecuteForCaller(const char *sql, Datum arg, bool arg_is_null, Datum key, bool key_is_null);

// The first column of the single row an SPI query returned, copied out of SPI (*is_null: none).
Datum SingleValue(int rc, bool *is_null);

// The table of key, which reader must be able to read: errors for a NULL key (22004), one not
// registered (42704), one that no longer follows its table (55000) or a lack of privilege (42501).
// Needs an open SPI connection. (read_rights.cpp)
Oid ReadableSource(Datum key, bool key_is_null, Oid reader);

// True when reader may read relid's key (its name, recorded document signature and chosen column
// numbers, int2[] or null): see store._may_read. bulk: a read of the whole store or history.
// (read_rights.cpp)
bool MayRead(Oid relid, const char *key, const char *shape, ArrayType *column_numbers, Oid reader, bool bulk);

// Errors unless the caller may read key (see ReadableSource). (read_rights.cpp)
void RequireReadable(Datum key, bool key_is_null);

// Appends key's documents to out, comma-separated, in primary-key order, as stored: all of them,
// or under row-level security those among ids (a jsonb array). Needs an open SPI connection.
// (snapshot.cpp)
void AppendKeyDocuments(StringInfo out, Datum key, bool under_rls, Datum ids);

// The version (text) of the active snapshot: what the calling statement reads.
Datum CurrentVersionText();

// The text of core::ContentMark for the active snapshot, given the store's newest writer it sees
// and its compaction horizon (store_snapshot_tag).
Datum CurrentContentMark(uint64 last_writer, uint64 compacted);

} // namespace store::pg
