// store core: per-subtransaction change bookkeeping.
#include "core/changes.hpp"

#include <algorithm>

namespace store::core {

void
TransactionChanges::Touch(SubId sub, std::string_view key, std::int64_t version)
{
	Level &level = levels_[sub];
	if (level.keys.find(key) == level.keys.end())
		level.keys.emplace(key);
	level.max_version = std::max(level.max_version, version);
}

void
TransactionChanges::CommitSub(SubId sub, SubId parent)
{
	auto it = levels_.find(sub);
	if (it == levels_.end())
		return;
	Level &target = levels_[parent];
	target.keys.merge(it->second.keys);
	target.max_version = std::max(target.max_version, it->second.max_version);
	levels_.erase(it);
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
	for (const auto &[sub, level] : levels_)
		all.insert(level.keys.begin(), level.keys.end());
	return {all.begin(), all.end()};
}

std::int64_t
TransactionChanges::MaxVersion() const
{
	std::int64_t newest = 0;
	for (const auto &[sub, level] : levels_)
		newest = std::max(newest, level.max_version);
	return newest;
}

} // namespace store::core
