// store core: the rows a transaction changed in tables that nested documents embed, kept per
// subtransaction until a flush turns them into the documents to re-render.
//
// The row triggers of a nested key record, per changed row, the values of the columns the reverse
// lookup of that table's occurrence in the shape takes (reverse_lookup.hpp): the old row's and the
// new row's, when they differ. A flush takes everything recorded by the live part of the
// transaction, per key and occurrence, deduplicated, and runs each occurrence's lookup once with
// all its values.
//
// Subtransactions: each level records apart; a released savepoint hands its records to its parent,
// a rolled-back one forgets them (its changes never happened, and neither did the documents they
// would have affected).
//
// A flush runs in the current subtransaction: the documents it writes roll back with it. So it
// hands out the records of every live level but remembers, in the current level, those that came
// from the levels above (still live): if the current level rolls back, the data they describe
// stays while the re-rendered documents go, and they become pending again at their own level. When
// the current level is released into the level they came from, they are settled (documents and
// data now share their fate); released into a lower one, they wait there.
//
// Memory is bounded: a key's records at one level hold at most max_rows_per_key distinct value
// lists (over all its occurrences). One more and the level keeps, for that key, only the flag
// "rebuild the whole key" (which a TRUNCATE sets too): its flush re-renders every document of the
// key, set-based, instead of looking rows up. Merging a level into its parent, and the records a
// flush keeps per level they came from, apply the same bound: each such set holds at most
// max_rows_per_key value lists per key, whatever the transaction writes. Values are what the glue
// chose to record, compared byte for byte: each column's binary send form is the natural choice
// (typsend; read back with typreceive at the flush, whatever DateStyle and the like say then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace store::core {

// The values of the lookup columns of one changed row, in the lookup's column order; nullopt is
// SQL NULL. Their encoding is the caller's (the same for every row of one occurrence).
using LookupValues = std::vector<std::optional<std::string>>;

// What a flush must re-render for one key.
struct KeyChanges {
	bool whole_key = false; // re-render every document (TRUNCATE, or more rows than the bound)
	// Per occurrence (its index among the key's lookups), the distinct values to look up; empty
	// when whole_key.
	std::map<int, std::set<LookupValues>> rows;

	// The number of value lists held, over all occurrences.
	std::size_t Size() const;
};

class PendingChanges {
public:
	using SubId = std::uint32_t;

	// Bound used when none is given: value lists per key and level.
	static constexpr std::size_t kDefaultMaxRowsPerKey = 10000;

	explicit PendingChanges(std::size_t max_rows_per_key = kDefaultMaxRowsPerKey) : max_rows_per_key_(max_rows_per_key)
	{
	}

	// Records that subtransaction sub changed a row that occurrence of key's shape reaches, with
	// these lookup values.
	void Record(SubId sub, std::string_view key, int occurrence, LookupValues values);
	// Records an UPDATE: both rows' values (once when they are equal).
	void RecordUpdate(SubId sub, std::string_view key, int occurrence, LookupValues old_values,
	                  LookupValues new_values);
	// Records that sub changed key in a way rows cannot say (TRUNCATE): rebuild all of it.
	void RecordWholeKey(SubId sub, std::string_view key);
	// A released subtransaction hands its records to its parent.
	void CommitSub(SubId sub, SubId parent);
	// A rolled-back subtransaction's records are forgotten; the records it flushed that came from
	// the levels above are pending there again. Never throws (the subtransaction abort callback runs
	// it): those records move node by node, without allocating; if that ever fails, Lost() says so.
	void AbortSub(SubId sub) noexcept;
	// Everything the live part of the transaction recorded, per key (merged over its levels), for a
	// flush running in subtransaction current (the innermost live one); it is pending no more (see
	// above for what a rollback of current brings back).
	std::map<std::string, KeyChanges> Flush(SubId current);
	// Forgets everything (top-level commit or abort).
	void
	Clear()
	{
		levels_.clear();
		lost_ = false;
	}
	// True when a level holds records to flush (or records were lost).
	bool HasPending() const;
	// True when a rollback could not bring back records a flush had taken (AbortSub): the
	// transaction's documents can no longer be made exact, so it must not commit.
	bool
	Lost() const
	{
		return lost_;
	}

private:
	using KeyMap = std::map<std::string, KeyChanges, std::less<>>;
	// One subtransaction's records.
	struct Level {
		KeyMap pending;                     // recorded, not flushed
		std::map<SubId, KeyMap> flushed_in; // flushed here, recorded at the level named (above)
	};

	// The records of key pending at level sub, created empty.
	KeyChanges &At(SubId sub, std::string_view key);
	// Merges from into into, then applies the bound.
	void Merge(KeyChanges &&from, KeyChanges *into) const;
	// Merges every key of from into into.
	void MergeAll(KeyMap &&from, KeyMap *into) const;
	// Replaces changes by the whole-key flag when they hold more than the bound.
	void Bound(KeyChanges *changes) const;
	// Moves every key of from into into without allocating (node transfers): from keeps the nodes
	// it could not hand over, emptied.
	void MoveAll(KeyMap *from, KeyMap *into) const noexcept;

	std::size_t max_rows_per_key_;
	std::map<SubId, Level> levels_;
	bool lost_ = false;
};

} // namespace store::core
