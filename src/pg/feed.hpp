// What store_history and store_changes share: a client's version read against the caller's
// snapshot and the store's compaction horizon, the keys whose history rows the caller may see,
// and the arguments of the statements over the history's parts (sql_names.hpp, "the feed").
#pragma once

#include "pg/cursor_glue.hpp"
#include "pg/postgres_headers.hpp"

namespace store::pg {

// A client's version read against the caller's snapshot: plain, palloc'd data (no destructor).
struct FeedCursor {
	SnapshotXids now;                        // the caller's snapshot
	char store_id[core::kStoreIdLength + 1]; // this store's id
	int32 origin;                            // this store's origin, on its history rows
	const char *after;                       // the client's version (NUL-terminated)
	uint64 xmax;                             // the client's xmax
	int nxip;                                // the client's running transactions
	uint64 *xip;                             //   (nxip of them)
	bool from_start;                         // the "0" version: every row of every origin
	bool too_old;                            // compaction may have removed changes it lacks
	bool ahead;                              // it sees more than the caller's snapshot
	const char *answer;                      // the version to answer with (too_old, ahead)
};

// Reads after (NULL refused) against the caller's snapshot and the compaction horizon; refuses a
// writing transaction. Needs an open SPI connection.
FeedCursor ReadFeedCursor(Datum after, bool after_is_null);

// The keys whose history rows reader may see: readable (may read in bulk) and registered (all),
// text[] datums valid until SPI_finish; and the ids row-level security lets reader see of the
// readable keys it filters ({"<key>": [ids]}, as VisibleIds; *visible_is_null: none filtered),
// queried only when one is. Needs an open SPI connection.
void HistoryKeys(Oid reader, Datum *readable, Datum *registered, Datum *visible, bool *visible_is_null);

// The nine arguments of a statement over the history's parts ($1 to $8 as sql_names.hpp says, $9
// the statement's own), with their types and nulls (' ' or 'n').
struct PartArgs {
	Oid types[9];
	Datum values[9];
	char nulls[10];
};

// The arguments for cursor and keys, page keys unbounded; $9 of type ninth_type, NULL.
PartArgs MakePartArgs(const FeedCursor &cursor, Datum readable, Datum registered, Oid ninth_type);

// Sets argument n (1-based) of args to value (is_null: NULL).
void SetPartArg(PartArgs *args, int n, Datum value, bool is_null);

// The xid8 datum of a 64-bit transaction id.
Datum Xid8Datum(uint64 xid);

// Reads of at most this many history rows (a page of store_changes, whose size the page-key
// statements tell) run the feed's kept generic plans; larger ones, and store_history from "0", are
// planned on each call with their arguments: planning is a small share of them, and a plan sized
// for them is faster (store_changes from "0", one page of 2M rows: 3.9-4.9 s planned per call,
// 8.1-8.3 s through the generic plan).
constexpr int64 kKeptPlanRows = 1000;

// The settings the feed's statements are planned and run under: JIT off (cheap queries over many
// rows); with kept_plans also index scans only, serial: the kept plans are generic (planned without
// their arguments), and only a range scan of the (origin, xid) index bounded by the arguments keeps
// a call O(log n + rows) however long the history; and sorts, not hash tables, for DISTINCT and
// GROUP BY (a generic plan sizes its hash tables for a large part of the history, and building and
// walking their empty buckets cost more than sorting the few rows of a call). Returns what
// LeaveFeedSettings needs.
int EnterFeedSettings(bool kept_plans);

// Restores what EnterFeedSettings changed.
void LeaveFeedSettings(int nest_level);

} // namespace store::pg
