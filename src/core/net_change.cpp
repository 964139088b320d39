// store core: net changes of documents over a transaction, and a flush's decision.
#include "core/net_change.hpp"
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

// What the document was before the transaction, as far as the flush can tell: nullopt when it was
// present with a text nobody kept.
std::optional<DocState>
OriginalState(NetOp written, const DocState &stored, const std::optional<DocState> &original)
{
	switch (written) {
	case NetOp::kNone:
		return stored; // no row yet: the entry is as before the transaction
	case NetOp::kCreate:
		return DocState::Absent();
	case NetOp::kUpdate:
	case NetOp::kDelete:
		if (original.has_value() && original->present)
			return original;
		return std::nullopt;
	}
	return std::nullopt;
}

// The history write turning the row's state written into state.
HistoryWrite
HistoryFor(NetOp written, NetOp state)
{
	if (written == state)
		return HistoryWrite::kKeep;
	if (written == NetOp::kNone)
		return HistoryWrite::kInsert;
	return state == NetOp::kNone ? HistoryWrite::kRemove : HistoryWrite::kChange;
}

// The entry write turning stored into now.
EntryWrite
EntryFor(const DocState &stored, const DocState &now)
{
	if (stored == now)
		return EntryWrite::kKeep;
	return now.present ? EntryWrite::kUpsert : EntryWrite::kDelete;
}

} // namespace

NetOp
NetChange(const DocState &before, const DocState &now)
{
	if (!before.present)
		return now.present ? NetOp::kCreate : NetOp::kNone;
	if (!now.present)
		return NetOp::kDelete;
	return before.text == now.text ? NetOp::kNone : NetOp::kUpdate;
}

FlushDecision
DecideFlush(NetOp written, const DocState &stored, const DocState &now, const std::optional<DocState> &original)
{
	FlushDecision decision;
	std::optional<DocState> before = OriginalState(written, stored, original);
	if (before.has_value())
		decision.state = NetChange(*before, now);
	else // present before, text unknown
		decision.state = now.present ? NetOp::kUpdate : NetOp::kDelete;
	decision.history = HistoryFor(written, decision.state);
	decision.entry = EntryFor(stored, now);
	return decision;
}

const char *
NetOpName(NetOp op)
{
	switch (op) {
	case NetOp::kCreate:
		return "C";
	case NetOp::kUpdate:
		return "U";
	case NetOp::kDelete:
		return "D";
	case NetOp::kNone:
		return "";
	}
	return "";
}

} // namespace store::core
