// store core: what the current transaction changed, tracked per subtransaction so that
// ROLLBACK TO SAVEPOINT forgets exactly its part. Drives the one NOTIFY per commit.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace store::core {

class TransactionChanges {
public:
	using SubId = std::uint32_t;

	// Records that subtransaction sub changed key.
	void Touch(SubId sub, std::string_view key);
	// Records that subtransaction sub changed the store, without naming a key.
	void
	Mark(SubId sub)
	{
		levels_[sub];
	}
	// A committed subtransaction hands its changes to its parent.
	void CommitSub(SubId sub, SubId parent);
	// A rolled-back subtransaction's changes never happened.
	void AbortSub(SubId sub);
	// Forgets everything (top-level commit, abort or prepare).
	void
	Clear()
	{
		levels_.clear();
	}

	bool
	Empty() const
	{
		return levels_.empty();
	}
	// Keys touched by the live (not rolled back) part of the transaction, sorted.
	std::vector<std::string> Keys() const;

private:
	using KeySet = std::set<std::string, std::less<>>;
	std::map<SubId, KeySet> levels_;
};

} // namespace store::core
