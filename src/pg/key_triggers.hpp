// Whether a store key's capture triggers work: store_<key> (AFTER INSERT OR UPDATE OR DELETE, FOR
// EACH ROW) and store_<key>_truncate (AFTER TRUNCATE, FOR EACH STATEMENT), both running
// store.capture('<key>') without WHEN or column list, enabled (ALWAYS, as store_register installs
// them, or ORIGIN) on the key's table and, for a partitioned table, on every partition. Readers
// serve a key only while they do (store._trigger_state reports the details).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// True when key's triggers work on relid (and its partitions), as the catalog reads in the
// reader's snapshot (ReaderSnapshot, signature.hpp). Takes no lock on the tables.
bool KeyTriggersWork(Oid relid, const char *key);

// True when a nested key's triggers work on every table its shape (nested) reaches from root: the
// row and truncate triggers (store.capture_nested) on each table but root (KeyTriggersWork checks
// those) and the deferred flush trigger (store.flush_nested) on all; false when the shape does not
// resolve. Read in ReaderSnapshot, as KeyTriggersWork. C++ frame: errors may come as exceptions.
bool NestedKeyTriggersWork(Oid root, const char *key, const char *nested);

} // namespace store::pg
