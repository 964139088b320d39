// The store's own tables as this transaction finds them: their OIDs, owner, document type and
// column positions, looked up by name once per transaction (the 0.1.0 and 0.2.0 layouts have the
// same column names), and again after any relcache invalidation of the store's tables (an altered
// table, a dropped and re-created extension).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Column positions (0-based, as in a slot's tts_values) of store.entries.
struct EntriesColumns {
	int key;
	int id;
	int doc;
};

// Column positions (0-based) of store.history.
struct HistoryColumns {
	int seq;
	int origin;
	int xid;
	int cache_key;
	int item;
	int state;
	int added_on;
};

// The store's catalog facts a write needs. The origin is this transaction's (a promotion that
// changes it takes effect at the next one).
struct StoreObjects {
	LocalTransactionId looked_up_in;
	Oid owner;
	Oid entries;
	Oid doc_type;
	Oid history;
	Oid history_seq;
	int32 origin;
	EntriesColumns entries_columns;
	HistoryColumns history_columns;
};

// The store's objects for this transaction, looked up on first use; a clear error when the
// extension's objects are missing.
const StoreObjects &CurrentStoreObjects();

// Registers the invalidation callback of the per-transaction store lookups; from _PG_init.
void InitStoreObjects();

// The OID of store.entries (looked up once per transaction).
Oid StoreEntries();

// The type of stored documents: json (jsonb while the SQL objects are still version 0.1.0's).
Oid StoredDocType();

// The role the store's tables belong to (the extension owner), looked up once per transaction.
// Needs no privilege.
Oid StoreOwner();

} // namespace store::pg
