// store core: versions as clients hold them. A version is a cursor into the change history: the
// MVCC snapshot the client's data was read in (PgQ's technique). A history row belongs after a
// cursor exactly when its writing transaction is not visible in that snapshot, so changes are
// delivered once, in whatever order their transactions commit.
//
// Text form: "<store>:<xmin>:<xmax>:<xip>,<xip>..." where store is the 8-hex-digit id of the
// store that issued it, xmin/xmax/xip are 64-bit transaction ids (xid8) as in pg_snapshot.
// "0" is the cursor before everything: it sees no transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace store::core {

struct Cursor {
	std::string store_id;           // empty only for the "0" cursor, which belongs to every store
	std::uint64_t xmin = 0;         // every transaction below xmin had finished
	std::uint64_t xmax = 0;         // no transaction at or above xmax had finished
	std::vector<std::uint64_t> xip; // in progress then: ascending, within [xmin, xmax)
};

// Length of a store id: 8 lower-case hex digits.
constexpr std::size_t kStoreIdLength = 8;

// Parses a version a client passed back; throws Error (22P02) when it is malformed.
Cursor ParseCursor(std::string_view text);

// Throws Error (22023) unless cursor was issued by the store store_id (or is "0").
void CheckCursorStore(const Cursor &cursor, std::string_view store_id);

// The text form of cursor.
std::string FormatCursor(const Cursor &cursor);

// What a snapshot (cursor) shows of the store's documents, as text: the store, the newest
// store-writing transaction it sees (last_writer, 0: none in the history left), the compaction
// horizon (compacted: the newest writer compaction removed, 0: none), and the transactions it
// sees running below the higher of the two. Equal marks, same documents: a store writer W that
// one snapshot sees and the other does not is, in the other, running below last_writer (W's rows
// remain, so W is at most the newest writer, which both see) or below compacted (W's rows were
// compacted, and the compaction whose horizon both read saw that horizon's writer finished).
// Running transactions below last_writer alone would not do: a compaction may remove the rows of
// a writer that committed after an earlier compaction without raising the horizon.
std::string ContentMark(const Cursor &cursor, std::uint64_t last_writer, std::uint64_t compacted);

// True when the transaction xid had committed (or aborted) as of cursor.
bool IsVisible(const Cursor &cursor, std::uint64_t xid);

// The same cursor, except that xid also counts as finished. Transactions between the old xmax
// and xid had not finished (xmax is one past the newest finished one), so they join xip.
Cursor SeeingAlso(Cursor cursor, std::uint64_t xid);

// True when every transaction at or below horizon is visible in cursor, i.e. history compacted
// up to horizon (0: nothing compacted) cannot have removed a change the cursor lacks.
bool CoversHorizon(const Cursor &cursor, std::uint64_t horizon);

// The cursor of a snapshot: store id, xmin, xmax and the transactions running then (any order,
// duplicates allowed). own (0: none) is the transaction taking the snapshot: a reader's own
// transaction counts as running (it may still write, or roll back), a committing one as finished.
enum class Own { kRunning, kFinished };
Cursor CursorOfSnapshot(std::string store_id, std::uint64_t xmin, std::uint64_t xmax,
                        std::vector<std::uint64_t> running, std::uint64_t own, Own own_is = Own::kRunning);

// The compaction state a client's cursor is read against.
struct Horizon {
	std::uint64_t compacted_xid = 0; // newest compacted transaction of this store (0: none)
	bool ever_compacted = false;     // any history at all removed (the "0" cursor then needs a reload)
};

// A client's cursor read against the store's current one.
struct CursorReading {
	Cursor cursor;
	bool too_old; // compaction may have removed changes it lacks: the client must reload
	bool ahead;   // it sees a transaction the current snapshot does not yet: answer "nothing yet"
};

// True when cursor counts as finished a transaction that current still sees running (or has
// not seen start): a reader whose snapshot lags behind the client's (REPEATABLE READ, a standby).
bool IsAhead(const Cursor &cursor, const Cursor &current);

// The cursor a page of changes answers with. A client at cursor `client` reading in snapshot
// `current` (not ahead of it: IsAhead false) is sent the changes of every transaction current sees
// finished that client does not, below page_end (at most current.xmax; current.xmax: all of them).
// The answer sees exactly what client saw plus what current sees below page_end:
//   xmax' = max(page_end, client.xmax)
//   xip'  = {t < xmax' running in current} + {t in client.xip : t >= page_end}
//   xmin' = the smallest of xip', or xmax'
// so a transaction current still saw running stays after it, and the last page (page_end =
// current.xmax) answers with current itself (xmin = the smallest of xip and xmax, as PostgreSQL
// takes snapshots). The store id is current's (client may be "0").
Cursor PageCursor(const Cursor &client, const Cursor &current, std::uint64_t page_end);

// Parses after and checks it against current: same store, no transaction beyond next_xid (the
// next id to be assigned), compaction horizon; throws Error when malformed, foreign or future.
CursorReading ReadCursor(std::string_view after, const Cursor &current, std::uint64_t next_xid, const Horizon &horizon);

} // namespace store::core
