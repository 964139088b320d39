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

	// Records that subtransaction sub changed key and wrote history up to version.
	void Touch(SubId sub, std::string_view key, std::int64_t version);
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
	// Newest version written by the live part, 0 when none.
	std::int64_t MaxVersion() const;

private:
	struct Level {
		std::set<std::string, std::less<>> keys;
		std::int64_t max_version = 0;
	};
	std::map<SubId, Level> levels_;
};

} // namespace store::core
