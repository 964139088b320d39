// store core: per-subtransaction change bookkeeping.
#include "core/changes.hpp"
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

void
TransactionChanges::Touch(SubId sub, std::string_view key)
{
	KeySet &keys = levels_[sub];
	if (keys.find(key) == keys.end())
		keys.emplace(key);
}

void
TransactionChanges::CommitSub(SubId sub, SubId parent)
{
	auto it = levels_.find(sub);
	if (it == levels_.end())
		return;
	KeySet merged = std::move(it->second);
	levels_.erase(it);
	levels_[parent].merge(merged);
}

void
TransactionChanges::AbortSub(SubId sub)
{
	levels_.erase(sub);
}

std::vector<std::string>
TransactionChanges::Keys() const
{
	std::set<std::string> all;
	for (const auto &[sub, keys] : levels_)
		all.insert(keys.begin(), keys.end());
	return {all.begin(), all.end()};
}

} // namespace store::core
