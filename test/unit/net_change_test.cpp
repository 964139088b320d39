// Unit tests: the net change of a nested document over a transaction, and how a second flush in
// the same transaction merges into what the first one wrote.
#include "core/net_change.hpp"

#include <gtest/gtest.h>

using namespace store::core;

namespace {

const DocState kAbsent = DocState::Absent();
const DocState kA = DocState::Present("{\"id\" : 1, \"n\" : \"a\"}");
const DocState kB = DocState::Present("{\"id\" : 1, \"n\" : \"b\"}");
const DocState kC = DocState::Present("{\"id\" : 1, \"n\" : \"c\"}");

TEST(NetChange, FourCases)
{
	EXPECT_EQ(NetChange(kAbsent, kA), NetOp::kCreate);
	EXPECT_EQ(NetChange(kA, kAbsent), NetOp::kDelete);
	EXPECT_EQ(NetChange(kA, kB), NetOp::kUpdate);
	EXPECT_EQ(NetChange(kA, kA), NetOp::kNone);
	EXPECT_EQ(NetChange(kAbsent, kAbsent), NetOp::kNone);
}

TEST(NetChange, TextComparedByteForByte)
{
	EXPECT_EQ(NetChange(DocState::Present("{\"a\":1}"), DocState::Present("{\"a\" : 1}")), NetOp::kUpdate);
	// An absent document's text is meaningless.
	DocState odd_absent;
	odd_absent.text = "left over";
	EXPECT_EQ(odd_absent, kAbsent);
	EXPECT_EQ(NetChange(odd_absent, kAbsent), NetOp::kNone);
}

TEST(DecideFlush, FirstFlush)
{
	FlushDecision created = DecideFlush(NetOp::kNone, kAbsent, kA);
	EXPECT_EQ(created.state, NetOp::kCreate);
	EXPECT_EQ(created.history, HistoryWrite::kInsert);
	EXPECT_EQ(created.entry, EntryWrite::kUpsert);
	FlushDecision deleted = DecideFlush(NetOp::kNone, kA, kAbsent);
	EXPECT_EQ(deleted.state, NetOp::kDelete);
	EXPECT_EQ(deleted.history, HistoryWrite::kInsert);
	EXPECT_EQ(deleted.entry, EntryWrite::kDelete);
	FlushDecision updated = DecideFlush(NetOp::kNone, kA, kB);
	EXPECT_EQ(updated.state, NetOp::kUpdate);
	EXPECT_EQ(updated.entry, EntryWrite::kUpsert);
	// A change no document shows: nothing at all.
	FlushDecision same = DecideFlush(NetOp::kNone, kA, kA);
	EXPECT_EQ(same.state, NetOp::kNone);
	EXPECT_EQ(same.history, HistoryWrite::kKeep);
	EXPECT_EQ(same.entry, EntryWrite::kKeep);
	// Inserted then deleted before the first flush: the root's own lookup names it, nothing is there.
	FlushDecision gone = DecideFlush(NetOp::kNone, kAbsent, kAbsent);
	EXPECT_EQ(gone.state, NetOp::kNone);
	EXPECT_EQ(gone.history, HistoryWrite::kKeep);
	EXPECT_EQ(gone.entry, EntryWrite::kKeep);
}

TEST(DecideFlush, InsertFlushedThenDeletedLeavesNothing)
{
	// First flush wrote C and the entry; the document is deleted later in the transaction.
	FlushDecision second = DecideFlush(NetOp::kCreate, kA, kAbsent);
	EXPECT_EQ(second.state, NetOp::kNone);
	EXPECT_EQ(second.history, HistoryWrite::kRemove);
	EXPECT_EQ(second.entry, EntryWrite::kDelete);
}

TEST(DecideFlush, CreatedThenChangedStaysCreate)
{
	FlushDecision second = DecideFlush(NetOp::kCreate, kA, kB);
	EXPECT_EQ(second.state, NetOp::kCreate);
	EXPECT_EQ(second.history, HistoryWrite::kKeep);
	EXPECT_EQ(second.entry, EntryWrite::kUpsert);
}

TEST(DecideFlush, DeletedThenReinserted)
{
	// Without the original text: U (it was present, it is present: maybe the same text).
	FlushDecision unknown = DecideFlush(NetOp::kDelete, kAbsent, kA);
	EXPECT_EQ(unknown.state, NetOp::kUpdate);
	EXPECT_EQ(unknown.history, HistoryWrite::kChange);
	EXPECT_EQ(unknown.entry, EntryWrite::kUpsert);
	// With it: the same text back is no change; another text is U.
	FlushDecision same = DecideFlush(NetOp::kDelete, kAbsent, kA, kA);
	EXPECT_EQ(same.state, NetOp::kNone);
	EXPECT_EQ(same.history, HistoryWrite::kRemove);
	EXPECT_EQ(same.entry, EntryWrite::kUpsert);
	FlushDecision other = DecideFlush(NetOp::kDelete, kAbsent, kB, kA);
	EXPECT_EQ(other.state, NetOp::kUpdate);
	EXPECT_EQ(other.history, HistoryWrite::kChange);
}

TEST(DecideFlush, UpdatedThenDeletedIsDelete)
{
	FlushDecision second = DecideFlush(NetOp::kUpdate, kB, kAbsent);
	EXPECT_EQ(second.state, NetOp::kDelete);
	EXPECT_EQ(second.history, HistoryWrite::kChange);
	EXPECT_EQ(second.entry, EntryWrite::kDelete);
}

TEST(DecideFlush, UpdatedThenUpdatedBack)
{
	// Unknown original: stays U (a U that maybe changed nothing; never a lost change).
	FlushDecision unknown = DecideFlush(NetOp::kUpdate, kB, kA);
	EXPECT_EQ(unknown.state, NetOp::kUpdate);
	EXPECT_EQ(unknown.history, HistoryWrite::kKeep);
	EXPECT_EQ(unknown.entry, EntryWrite::kUpsert);
	// Known original: back to it is no net change, the row goes.
	FlushDecision back = DecideFlush(NetOp::kUpdate, kB, kA, kA);
	EXPECT_EQ(back.state, NetOp::kNone);
	EXPECT_EQ(back.history, HistoryWrite::kRemove);
	EXPECT_EQ(back.entry, EntryWrite::kUpsert);
	// Further along: still U, the row is right as it is.
	FlushDecision further = DecideFlush(NetOp::kUpdate, kB, kC, kA);
	EXPECT_EQ(further.state, NetOp::kUpdate);
	EXPECT_EQ(further.history, HistoryWrite::kKeep);
}

TEST(DecideFlush, SecondFlushWithNothingNewKeepsEverything)
{
	for (NetOp written : {NetOp::kCreate, NetOp::kUpdate}) {
		FlushDecision again = DecideFlush(written, kB, kB);
		EXPECT_EQ(again.state, written);
		EXPECT_EQ(again.history, HistoryWrite::kKeep);
		EXPECT_EQ(again.entry, EntryWrite::kKeep);
	}
	FlushDecision deleted = DecideFlush(NetOp::kDelete, kAbsent, kAbsent);
	EXPECT_EQ(deleted.state, NetOp::kDelete);
	EXPECT_EQ(deleted.history, HistoryWrite::kKeep);
	EXPECT_EQ(deleted.entry, EntryWrite::kKeep);
}

TEST(DecideFlush, AbsentOriginalGivenForUpdateIsIgnored)
{
	// U and D rows mean the document was present; a caller passing "absent" is not believed.
	FlushDecision decision = DecideFlush(NetOp::kUpdate, kB, kAbsent, kAbsent);
	EXPECT_EQ(decision.state, NetOp::kDelete);
}

// Applies a sequence of flushes to one document the way the glue would, checking the invariant
// (no row <=> the entry is the original) and returning the final history state.
NetOp
Replay(const DocState &original, const std::vector<DocState> &renders, bool keep_original)
{
	NetOp written = NetOp::kNone;
	DocState stored = original;
	for (const DocState &now : renders) {
		FlushDecision d =
		    DecideFlush(written, stored, now, keep_original ? std::optional<DocState>(original) : std::nullopt);
		written = d.state;
		if (d.entry != EntryWrite::kKeep)
			stored = now;
		EXPECT_EQ(stored, now);
		if (written == NetOp::kNone)
			EXPECT_EQ(stored, original);
	}
	return written;
}

TEST(DecideFlush, SequencesEndInTheNetChange)
{
	const std::vector<DocState> states = {kAbsent, kA, kB};
	for (const DocState &original : states)
		for (const DocState &one : states)
			for (const DocState &two : states)
				for (const DocState &three : states) {
					NetOp net = NetChange(original, three);
					EXPECT_EQ(Replay(original, {one, two, three}, true), net);
					NetOp unknown = Replay(original, {one, two, three}, false);
					// Without the original text, only "the same text again, after a flush saw another
					// state" may come out as U.
					bool left = one != original || two != original;
					if (net == NetOp::kNone && original.present && left)
						EXPECT_EQ(unknown, NetOp::kUpdate);
					else
						EXPECT_EQ(unknown, net);
				}
}

} // namespace
