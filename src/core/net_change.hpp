// store core: the net change of one nested document over a transaction, and how a flush turns it
// into (at most) one history row per (transaction, key, document).
//
// A nested key's documents are re-rendered by flushes (at commit, and before reads in the writing
// transaction). Each flush compares the freshly rendered document with the stored entry and keeps
// one history row per (transaction, key, id) giving the NET change from before the transaction:
//   absent -> present: C;  present -> absent: D;  present -> present with other text: U;
//   otherwise (absent -> absent, the same text again): no row.
// A later flush of the same transaction merges into what earlier ones wrote. It cannot read the
// state before the transaction back from the store (the entry already holds the earlier flush's
// result, and history rows carry no text), so it relies on this invariant, which flushes keep:
//   no history row of this transaction for (key, id)  <=>  the entry is as before the transaction,
// and on the row's state otherwise: C means it was absent, U and D that it was present. When the
// flush does not know the text before the transaction (U, D), present -> present counts as U, so
// deleting a document and inserting it back with the same text in one transaction logs U, unless
// the caller kept the original text and passes it (then: nothing).
#pragma once

#include <optional>
#include <string>

namespace store::core {

// A history state of one document, or none.
enum class NetOp : char {
	kNone = 0,
	kCreate = 'C',
	kUpdate = 'U',
	kDelete = 'D',
};

// A document's state at one moment: absent, or present with its text.
struct DocState {
	bool present = false;
	std::string text; // when present

	// No document.
	static DocState
	Absent()
	{
		return {};
	}
	// A document with this text.
	static DocState
	Present(std::string text)
	{
		return {true, std::move(text)};
	}
	bool
	operator==(const DocState &other) const
	{
		return present == other.present && (!present || text == other.text);
	}
	bool
	operator!=(const DocState &other) const
	{
		return !(*this == other);
	}
};

// The net change from before to now: C, D, U or none.
NetOp NetChange(const DocState &before, const DocState &now);

// What to do with the history row of (transaction, key, id).
enum class HistoryWrite {
	kKeep,   // it is right as it is (also: there is none and none is needed)
	kInsert, // there is none: insert one with the new state
	kChange, // there is one: set its state to the new one
	kRemove, // there is one: delete it (the transaction's net change became none)
};

// What to do with the entry (store.entries) of (key, id).
enum class EntryWrite {
	kKeep,   // it already holds the rendered document (or there is none and none is rendered)
	kUpsert, // write the rendered text (insert, or replace the stored one)
	kDelete, // remove it: the document is gone
};

// One flush's decision for one document.
struct FlushDecision {
	NetOp state = NetOp::kNone; // the history state after this flush (kNone: no row)
	HistoryWrite history = HistoryWrite::kKeep;
	EntryWrite entry = EntryWrite::kKeep;
};

// Decides a flush for one document. written: the state of the history row earlier flushes of
// this transaction wrote for it (kNone: none); stored: the entry now; now: the document rendered
// now; original: the document before the transaction when the caller knows it (only used when
// written is U or D; with no row, stored is the original).
FlushDecision DecideFlush(NetOp written, const DocState &stored, const DocState &now,
                          const std::optional<DocState> &original = std::nullopt);

// The history letter of a state ("C", "U", "D"; "" for none).
const char *NetOpName(NetOp op);

} // namespace store::core
