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
	EXPECT_EQ(changes.MaxVersion(), 0);
}

TEST(TransactionChanges, CollectsSortedUniqueKeysAndNewestVersion)
{
	TransactionChanges changes;
	changes.Touch(1, "orders", 5);
	changes.Touch(1, "items", 7);
	changes.Touch(1, "orders", 6);
	EXPECT_EQ(changes.Keys(), (Keys{"items", "orders"}));
	EXPECT_EQ(changes.MaxVersion(), 7);
}

TEST(TransactionChanges, SavepointRollbackForgetsExactlyItsPart)
{
	TransactionChanges changes;
	changes.Touch(1, "items", 3);
	changes.Touch(2, "orders", 4); // SAVEPOINT a
	changes.AbortSub(2);           // ROLLBACK TO a
	EXPECT_EQ(changes.Keys(), Keys{"items"});
	EXPECT_EQ(changes.MaxVersion(), 3);
}

TEST(TransactionChanges, ReleasedSavepointMergesIntoParentThenParentRollbackDropsIt)
{
	TransactionChanges changes;
	changes.Touch(1, "items", 1);
	changes.Touch(3, "orders", 9); // level 3 inside level 2
	changes.CommitSub(3, 2);       // RELEASE inner
	EXPECT_EQ(changes.Keys(), (Keys{"items", "orders"}));
	changes.AbortSub(2); // ROLLBACK TO outer
	EXPECT_EQ(changes.Keys(), Keys{"items"});
	EXPECT_EQ(changes.MaxVersion(), 1);
}

TEST(TransactionChanges, OnlyRolledBackChangesLeavesItEmpty)
{
	TransactionChanges changes;
	changes.Touch(2, "items", 1);
	changes.AbortSub(2);
	EXPECT_TRUE(changes.Empty());
}

TEST(TransactionChanges, ClearForgetsEverything)
{
	TransactionChanges changes;
	changes.Touch(1, "items", 1);
	changes.CommitSub(7, 1); // unknown subtransaction: nothing to merge
	changes.Clear();
	EXPECT_TRUE(changes.Empty());
}
