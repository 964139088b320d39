// Bringing a key's documents level with its partitioned table after partitions came or went.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Brings key's documents level with its table without touching the rows both hold: entries whose
// row is gone are deleted (D each, in id order), rows without an entry get one (C each, in id
// order, after the D rows), all through the writer; a change is noted for the commit's NOTIFY.
// What a partition's attach, detach, drop or truncate leaves to do. Compares the rows and the
// entries in one fresh snapshot of this transaction (other transactions' uncommitted rows and
// entries are invisible alike) and locks nothing beyond the caller's locks and the entries it writes.
void Reconcile(const char *store_key);

} // namespace store::pg
