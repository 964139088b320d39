// Unit tests: per-subtransaction change bookkeeping behind the one NOTIFY per commit.
#include "core/changes.hpp"

#include <gtest/gtest.h>

using store::core::TransactionChanges;
using Keys = std::vector<std::string>;

TEST(TransactionChanges, StartsEmpty)
{
	TransactionChanges changes;
	EXPECT_TRUE(changes.Empty());
	EXPECT_EQ(changes.Keys(), Keys{});
}

TEST(TransactionChanges, CollectsSortedUniqueKeys)
{
	TransactionChanges changes;
	changes.Touch(1, "orders");
	changes.Touch(1, "items");
	changes.Touch(1, "orders");
	EXPECT_EQ(changes.Keys(), (Keys{"items", "orders"}));
}

TEST(TransactionChanges, SavepointRollbackForgetsExactlyItsPart)
{
	TransactionChanges changes;
	changes.Touch(1, "items");
	changes.Touch(2, "orders"); // SAVEPOINT a
	changes.AbortSub(2);        // ROLLBACK TO a
	EXPECT_EQ(changes.Keys(), Keys{"items"});
}

TEST(TransactionChanges, ReleasedSavepointMergesIntoParentThenParentRollbackDropsIt)
{
	TransactionChanges changes;
	changes.Touch(1, "items");
	changes.Touch(3, "orders"); // level 3 inside level 2
	changes.CommitSub(3, 2);    // RELEASE inner
	EXPECT_EQ(changes.Keys(), (Keys{"items", "orders"}));
	changes.AbortSub(2); // ROLLBACK TO outer
	EXPECT_EQ(changes.Keys(), Keys{"items"});
}

TEST(TransactionChanges, OnlyRolledBackChangesLeavesItEmpty)
{
	TransactionChanges changes;
	changes.Touch(2, "items");
	changes.AbortSub(2);
	EXPECT_TRUE(changes.Empty());
}

TEST(TransactionChanges, ClearForgetsEverything)
{
	TransactionChanges changes;
	changes.Touch(1, "items");
	changes.CommitSub(7, 1); // unknown subtransaction: nothing to merge
	changes.Clear();
	EXPECT_TRUE(changes.Empty());
}

TEST(TransactionChanges, AKeylessChangeStillCountsAndRollsBack)
{
	TransactionChanges changes;
	changes.Mark(2);
	EXPECT_FALSE(changes.Empty());
	EXPECT_EQ(changes.Keys(), Keys{});
	changes.AbortSub(2);
	EXPECT_TRUE(changes.Empty());
	changes.Mark(3);
	changes.CommitSub(3, 1);
	EXPECT_FALSE(changes.Empty());
}
