// Unit tests: rows changed per subtransaction, deduplicated, bounded, and handed to flushes.
#include "core/pending.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

using namespace store::core;

// Allocation failures on demand (for AbortSubNeverThrows): while allocations_left is >= 0, each
// allocation uses one and the one after the last throws std::bad_alloc; -1 (the default) never.
namespace {
thread_local long allocations_left = -1;
} // namespace

void *
operator new(std::size_t size)
{
	if (allocations_left == 0)
		throw std::bad_alloc();
	if (allocations_left > 0)
		allocations_left--;
	if (void *memory = std::malloc(size == 0 ? 1 : size))
		return memory;
	throw std::bad_alloc();
}

void
operator delete(void *memory) noexcept
{
	std::free(memory);
}

void
operator delete(void *memory, std::size_t) noexcept
{
	std::free(memory);
}

namespace {

constexpr PendingChanges::SubId kTop = 1;

// One value list of a single column.
LookupValues
V(const std::string &value)
{
	return {value};
}

// The value lists flushed for (key, occurrence).
std::set<LookupValues>
Rows(const std::map<std::string, KeyChanges> &flushed, const std::string &key, int occurrence)
{
	auto found = flushed.find(key);
	if (found == flushed.end())
		return {};
	auto rows = found->second.rows.find(occurrence);
	return rows == found->second.rows.end() ? std::set<LookupValues>{} : rows->second;
}

TEST(PendingChanges, DeduplicatesPerKeyAndOccurrence)
{
	PendingChanges pending;
	pending.Record(kTop, "films", 0, V("1"));
	pending.Record(kTop, "films", 0, V("1"));
	pending.Record(kTop, "films", 2, V("1"));
	pending.Record(kTop, "customers", 0, V("1"));
	auto flushed = pending.Flush(kTop);
	EXPECT_EQ(flushed.size(), 2u);
	EXPECT_EQ(Rows(flushed, "films", 0), std::set<LookupValues>{V("1")});
	EXPECT_EQ(Rows(flushed, "films", 2), std::set<LookupValues>{V("1")});
	EXPECT_EQ(flushed.at("films").Size(), 2u);
	EXPECT_FALSE(pending.HasPending());
	EXPECT_TRUE(pending.Flush(kTop).empty());
}

TEST(PendingChanges, NullsAndCompositeValues)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 1, {std::string("100"), std::nullopt});
	pending.Record(kTop, "k", 1, {std::string("100"), std::string("")});
	pending.Record(kTop, "k", 1, {std::string("100"), std::nullopt});
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 1).size(), 2u); // NULL is not ''
}

TEST(PendingChanges, UpdateRecordsOldAndNew)
{
	PendingChanges pending;
	pending.RecordUpdate(kTop, "k", 0, V("1"), V("2")); // a child moved to another parent
	pending.RecordUpdate(kTop, "k", 0, V("3"), V("3"));
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 0), (std::set<LookupValues>{V("1"), V("2"), V("3")}));
}

TEST(PendingChanges, ReleasedSavepointMergesIntoParent)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(2, "k", 0, V("2"));
	pending.Record(3, "k", 0, V("3"));
	pending.CommitSub(3, 2);
	pending.CommitSub(2, kTop);
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 0), (std::set<LookupValues>{V("1"), V("2"), V("3")}));
}

TEST(PendingChanges, RolledBackSavepointIsForgotten)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(2, "k", 0, V("2"));
	pending.Record(2, "other", 0, V("9"));
	pending.Record(3, "k", 0, V("3"));
	pending.CommitSub(3, 2);
	pending.AbortSub(2);
	auto flushed = pending.Flush(kTop);
	EXPECT_EQ(Rows(flushed, "k", 0), std::set<LookupValues>{V("1")});
	EXPECT_EQ(flushed.count("other"), 0u);
}

TEST(PendingChanges, RolledBackWholeKeyIsForgotten)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.RecordWholeKey(2, "k");
	pending.AbortSub(2);
	auto flushed = pending.Flush(kTop);
	EXPECT_FALSE(flushed.at("k").whole_key);
	EXPECT_EQ(Rows(flushed, "k", 0), std::set<LookupValues>{V("1")});
}

TEST(PendingChanges, WholeKeyWinsAndDropsRows)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.RecordWholeKey(2, "k");
	pending.Record(2, "k", 0, V("2"));
	pending.CommitSub(2, kTop);
	pending.Record(kTop, "k", 0, V("3"));
	auto flushed = pending.Flush(kTop);
	EXPECT_TRUE(flushed.at("k").whole_key);
	EXPECT_TRUE(flushed.at("k").rows.empty());
}

TEST(PendingChanges, BoundTurnsIntoWholeKey)
{
	PendingChanges pending(3);
	for (int i = 0; i < 3; i++)
		pending.Record(kTop, "k", i % 2, V(std::to_string(i)));
	pending.Record(kTop, "small", 0, V("1"));
	auto flushed = pending.Flush(kTop);
	EXPECT_FALSE(flushed.at("k").whole_key);
	EXPECT_EQ(flushed.at("k").Size(), 3u);
	for (int i = 0; i < 4; i++)
		pending.Record(kTop, "k", 0, V(std::to_string(i)));
	pending.Record(kTop, "small", 0, V("1"));
	flushed = pending.Flush(kTop);
	EXPECT_TRUE(flushed.at("k").whole_key);
	EXPECT_TRUE(flushed.at("k").rows.empty());
	EXPECT_FALSE(flushed.at("small").whole_key); // per key
}

TEST(PendingChanges, BoundAppliesWhenLevelsMerge)
{
	PendingChanges pending(3);
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(kTop, "k", 0, V("2"));
	pending.Record(2, "k", 0, V("2")); // the same row: no growth
	pending.CommitSub(2, kTop);
	EXPECT_FALSE(pending.Flush(kTop).at("k").whole_key);
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(kTop, "k", 0, V("2"));
	pending.Record(2, "k", 0, V("3"));
	pending.Record(2, "k", 0, V("4"));
	pending.CommitSub(2, kTop);
	EXPECT_TRUE(pending.Flush(kTop).at("k").whole_key);
}

TEST(PendingChanges, FlushInSavepointThatRollsBackBringsOuterRowsBack)
{
	// Top-level writes a child, SAVEPOINT, another write, a read flushes both, ROLLBACK TO: the
	// re-rendered documents roll back but the top-level change stays, so it is pending again.
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(2, "k", 0, V("2"));
	EXPECT_EQ(Rows(pending.Flush(2), "k", 0), (std::set<LookupValues>{V("1"), V("2")}));
	EXPECT_FALSE(pending.HasPending());
	pending.AbortSub(2);
	EXPECT_TRUE(pending.HasPending());
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 0), std::set<LookupValues>{V("1")});
	EXPECT_FALSE(pending.HasPending());
}

TEST(PendingChanges, FlushInReleasedSavepointSettlesOuterRows)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Flush(2);
	pending.CommitSub(2, kTop); // the documents now live at the top level, with the data
	EXPECT_FALSE(pending.HasPending());
	EXPECT_TRUE(pending.Flush(kTop).empty());
}

TEST(PendingChanges, FlushDeepInsideWaitsForEveryLevel)
{
	// Recorded at the top, flushed in level 3, released into 2, then 2 rolls back: pending again.
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Record(2, "k", 0, V("2"));
	pending.Flush(3);
	pending.CommitSub(3, 2);
	EXPECT_FALSE(pending.HasPending());
	pending.AbortSub(2);
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 0), std::set<LookupValues>{V("1")});
	// Recorded at the top, flushed in 3, released into 2, released into the top: settled.
	pending.Record(kTop, "k", 0, V("1"));
	pending.Flush(3);
	pending.CommitSub(3, 2);
	pending.CommitSub(2, kTop);
	EXPECT_FALSE(pending.HasPending());
	pending.Clear();
	EXPECT_TRUE(pending.Flush(kTop).empty());
}

TEST(PendingChanges, RowsRecordedAfterAFlushInTheSameSavepoint)
{
	PendingChanges pending;
	pending.Record(kTop, "k", 0, V("1"));
	pending.Flush(2);
	pending.Record(2, "k", 0, V("5"));
	pending.AbortSub(2); // 5 never happened; 1 is back
	EXPECT_EQ(Rows(pending.Flush(kTop), "k", 0), std::set<LookupValues>{V("1")});
}

TEST(PendingChanges, AbortSubNeverThrows)
{
	// The subtransaction abort callback runs it: it must not raise, even out of memory (an error
	// there aborts the abort). Records flushed in the rolled-back level come back to the levels they
	// came from without allocating; should that ever be impossible, the changes report Lost() (the
	// glue then fails the transaction at its flush) and still count as pending.
	for (long budget = 0; budget < 64; budget++) {
		PendingChanges pending;
		pending.Record(kTop, "k", 0, V("1"));
		pending.Record(kTop, "j", 1, V("7"));
		pending.Record(2, "k", 0, V("2"));
		pending.Flush(3); // the top's and 2's records, flushed in 3
		pending.Record(kTop, "k", 0, V("3"));
		allocations_left = budget;
		bool threw = false;
		try {
			pending.AbortSub(3);
		} catch (...) {
			threw = true;
		}
		allocations_left = -1;
		EXPECT_FALSE(threw) << "allocation budget " << budget;
		EXPECT_TRUE(pending.HasPending());
		auto flushed = pending.Flush(kTop);
		EXPECT_EQ(Rows(flushed, "k", 0), (std::set<LookupValues>{V("1"), V("2"), V("3")})) << budget;
		EXPECT_EQ(Rows(flushed, "j", 1), std::set<LookupValues>{V("7")}) << budget;
	}
}

} // namespace
