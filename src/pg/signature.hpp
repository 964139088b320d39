// A registered table's primary key and its documents' signature: what registration records in
// store.keys.shape, and what DDL handling and readers compare with it (documents whose table no
// longer has that signature may hold columns that no longer exist).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// The snapshot the catalog facts of a key are read in: the active one (a reader's, in which it
// also read the registration), else the latest catalog.
Snapshot ReaderSnapshot();

// The primary-key column numbers of relid, in key order, palloc'd (*count of them; 0 and
// nullptr when it has none); *immediate: the key is checked immediately. Read in ReaderSnapshot;
// takes no lock on relid.
AttrNumber *PrimaryKeyOf(Oid relid, int *count, bool *immediate);

// PrimaryKeyOf, with errors (and hints) for anything but an ordinary or partitioned table outside
// the store's schema with an immediate primary key: what registration and DDL handling require.
AttrNumber *RegistrablePrimaryKey(Oid relid, int *count);

// The number of relid's attributes, dropped ones included (0 when it is gone).
int TableColumnCount(Oid relid);

// relid's document signature (its columns read in ReaderSnapshot): its chosen live columns (column_numbers, int2[], in
// that order; all of them in table order when null) as "name type", then " | primary key " and the key's column names
// (key_attnums, in key order). palloc'd.
char *DocumentSignature(Oid relid, ArrayType *column_numbers, const AttrNumber *key_attnums, int nkeys);

} // namespace store::pg
