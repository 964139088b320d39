// store core: rows changed per subtransaction, deduplicated and bounded, until a flush.
#include "core/pending.hpp"
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

std::size_t
KeyChanges::Size() const
{
	std::size_t size = 0;
	for (const auto &[occurrence, values] : rows)
		size += values.size();
	return size;
}

KeyChanges &
PendingChanges::At(SubId sub, std::string_view key)
{
	KeyMap &keys = levels_[sub].pending;
	auto found = keys.find(key);
	if (found == keys.end())
		found = keys.emplace(std::string(key), KeyChanges()).first;
	return found->second;
}

void
PendingChanges::Bound(KeyChanges *changes) const
{
	if (changes->whole_key || changes->Size() > max_rows_per_key_) {
		changes->whole_key = true;
		changes->rows.clear();
	}
}

void
PendingChanges::Record(SubId sub, std::string_view key, int occurrence, LookupValues values)
{
	KeyChanges &changes = At(sub, key);
	if (changes.whole_key)
		return;
	changes.rows[occurrence].insert(std::move(values));
	Bound(&changes);
}

void
PendingChanges::RecordUpdate(SubId sub, std::string_view key, int occurrence, LookupValues old_values,
                             LookupValues new_values)
{
	if (old_values != new_values)
		Record(sub, key, occurrence, std::move(old_values));
	Record(sub, key, occurrence, std::move(new_values));
}

void
PendingChanges::RecordWholeKey(SubId sub, std::string_view key)
{
	KeyChanges &changes = At(sub, key);
	changes.whole_key = true;
	changes.rows.clear();
}

void
PendingChanges::Merge(KeyChanges &&from, KeyChanges *into) const
{
	into->whole_key = into->whole_key || from.whole_key;
	if (!into->whole_key)
		for (auto &[occurrence, values] : from.rows)
			into->rows[occurrence].merge(values);
	Bound(into);
}

void
PendingChanges::MergeAll(KeyMap &&from, KeyMap *into) const
{
	for (auto &[key, changes] : from)
		Merge(std::move(changes), &(*into)[key]);
}

void
PendingChanges::CommitSub(SubId sub, SubId parent)
{
	auto found = levels_.find(sub);
	if (found == levels_.end())
		return;
	Level level = std::move(found->second);
	levels_.erase(found);
	Level &into = levels_[parent];
	MergeAll(std::move(level.pending), &into.pending);
	for (auto &[owner, keys] : level.flushed_in)
		if (owner != parent) // flushed in parent's own level now: settled
			MergeAll(std::move(keys), &into.flushed_in[owner]);
}

void
PendingChanges::MoveAll(KeyMap *from, KeyMap *into) const noexcept
{
	into->merge(*from); // the keys into lacks: their nodes move
	for (auto &[key, changes] : *from) {
		KeyChanges &target = into->find(key)->second;
		target.whole_key = target.whole_key || changes.whole_key;
		if (!target.whole_key) {
			target.rows.merge(changes.rows); // the occurrences target lacks
			for (auto &[occurrence, values] : changes.rows)
				target.rows.find(occurrence)->second.merge(values); // the value lists it lacks
		}
		Bound(&target);
	}
}

void
PendingChanges::AbortSub(SubId sub) noexcept
{
	auto found = levels_.find(sub);
	if (found == levels_.end())
		return;
	try {
		// The documents flushed here roll back; the rows recorded above did not: pending again.
		for (auto &[owner, keys] : found->second.flushed_in) {
			auto level = levels_.find(owner); // a live level above: it recorded them
			if (level == levels_.end() || level == found)
				lost_ = true;
			else
				MoveAll(&keys, &level->second.pending);
		}
	} catch (...) {
		lost_ = true;
	}
	levels_.erase(found);
}

std::map<std::string, KeyChanges>
PendingChanges::Flush(SubId current)
{
	std::map<std::string, KeyChanges> all;
	KeyMap result;
	std::map<SubId, KeyMap> from_above;
	for (auto &[sub, level] : levels_) {
		for (auto &[key, changes] : level.pending) {
			KeyChanges copy = changes;
			Merge(std::move(copy), &result[key]);
			if (sub != current)
				Merge(std::move(changes), &from_above[sub][key]);
		}
		level.pending.clear();
	}
	Level &here = levels_[current];
	for (auto &[owner, keys] : from_above)
		MergeAll(std::move(keys), &here.flushed_in[owner]);
	for (auto &[key, changes] : result)
		all.emplace(key, std::move(changes));
	return all;
}

bool
PendingChanges::HasPending() const
{
	if (lost_)
		return true;
	for (const auto &[sub, level] : levels_)
		if (!level.pending.empty())
			return true;
	return false;
}

} // namespace store::core
