// Unit tests: version cursors (parse, render, visibility, hand-over rules).
#include "core/cursor.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace store::core;
using Xids = std::vector<std::uint64_t>;

// The SQLSTATE ParseCursor raises for text, or "" when it accepts it.
static std::string
SqlstateOf(const std::string &text)
{
	try {
		ParseCursor(text);
	} catch (const Error &e) {
		return e.sqlstate();
	}
	return "";
}

TEST(ParseCursor, ReadsStoreSnapshotAndInProgressList)
{
	Cursor c = ParseCursor("0a1b2c3d:748:760:748,751,759");
	EXPECT_EQ(c.store_id, "0a1b2c3d");
	EXPECT_EQ(c.xmin, 748u);
	EXPECT_EQ(c.xmax, 760u);
	EXPECT_EQ(c.xip, (Xids{748, 751, 759}));
	EXPECT_EQ(ParseCursor("0a1b2c3d:5:5:").xip, Xids{});
}

TEST(ParseCursor, ZeroIsTheCursorBeforeEverything)
{
	Cursor c = ParseCursor("0");
	EXPECT_TRUE(c.store_id.empty());
	EXPECT_FALSE(IsVisible(c, 0));
	EXPECT_FALSE(IsVisible(c, 12345));
	EXPECT_EQ(FormatCursor(c), "0");
}

TEST(ParseCursor, RoundTripsThroughFormat)
{
	for (const char *text : {"0a1b2c3d:748:760:748,751,759", "ffffffff:1:1:", "00000000:3:18446744073709551615:7"})
		EXPECT_EQ(FormatCursor(ParseCursor(text)), text);
}

TEST(ParseCursor, RejectsMalformedText)
{
	for (const char *bad : {"",
	                        "00",
	                        "1",
	                        "-1",
	                        "abc",
	                        "0a1b2c3d",
	                        "0a1b2c3d:1:2",
	                        "0a1b2c3d:1:2:3:4",
	                        "0A1B2C3D:1:2:",
	                        "0a1b2c3:1:2:",
	                        "0a1b2c3de:1:2:",
	                        "0a1b2c3d::2:",
	                        "0a1b2c3d:1::",
	                        "0a1b2c3d:3:2:",
	                        "0a1b2c3d:1:5:5",
	                        "0a1b2c3d:2:5:1",
	                        "0a1b2c3d:1:5:3,3",
	                        "0a1b2c3d:1:5:4,3",
	                        "0a1b2c3d:1:5:3,",
	                        "0a1b2c3d:1:5:,3",
	                        "0a1b2c3d: 1:5:",
	                        "0a1b2c3d:+1:5:",
	                        "0a1b2c3d:1:18446744073709551616:",
	                        "0a1b2c3d:1.5:2:",
	                        "0 ",
	                        "0a1b2c3d:1:5:3 "})
		EXPECT_EQ(SqlstateOf(bad), "22P02") << "input: '" << bad << "'";
}

TEST(ParseCursor, ErrorMessageIsShortForHugeInput)
{
	try {
		ParseCursor(std::string(100000, '9'));
		FAIL() << "expected an error";
	} catch (const Error &e) {
		EXPECT_LT(std::string(e.what()).size(), 100u);
		EXPECT_FALSE(e.hint().empty());
	}
}

TEST(CheckCursorStore, RejectsForeignCursorsAndAcceptsZero)
{
	EXPECT_NO_THROW(CheckCursorStore(ParseCursor("0a1b2c3d:1:2:"), "0a1b2c3d"));
	EXPECT_NO_THROW(CheckCursorStore(ParseCursor("0"), "0a1b2c3d"));
	try {
		CheckCursorStore(ParseCursor("ffffffff:1:2:"), "0a1b2c3d");
		FAIL() << "expected an error";
	} catch (const Error &e) {
		EXPECT_EQ(e.sqlstate(), "22023");
	}
}

TEST(IsVisible, FollowsSnapshotRules)
{
	Cursor c = ParseCursor("0a1b2c3d:10:20:12,15");
	EXPECT_TRUE(IsVisible(c, 9));
	EXPECT_TRUE(IsVisible(c, 10));
	EXPECT_FALSE(IsVisible(c, 12));
	EXPECT_TRUE(IsVisible(c, 13));
	EXPECT_FALSE(IsVisible(c, 15));
	EXPECT_TRUE(IsVisible(c, 19));
	EXPECT_FALSE(IsVisible(c, 20));
	EXPECT_FALSE(IsVisible(c, 21));
}

TEST(SeeingAlso, MarksTheTransactionFinishedAndKeepsLaterOnesRunning)
{
	Cursor c = SeeingAlso(ParseCursor("0a1b2c3d:10:20:12,15"), 23);
	EXPECT_EQ(FormatCursor(c), "0a1b2c3d:10:24:12,15,20,21,22");
	EXPECT_TRUE(IsVisible(c, 23));
	EXPECT_FALSE(IsVisible(c, 21));
	Cursor inside = SeeingAlso(ParseCursor("0a1b2c3d:10:20:12,15"), 15);
	EXPECT_EQ(FormatCursor(inside), "0a1b2c3d:10:20:12");
}

TEST(CoversHorizon, IsTrueOnlyWhenNoCompactedTransactionCanBeMissing)
{
	Cursor c = ParseCursor("0a1b2c3d:10:20:12,15");
	EXPECT_TRUE(CoversHorizon(c, 0));
	EXPECT_TRUE(CoversHorizon(c, 11));
	EXPECT_FALSE(CoversHorizon(c, 12));
	EXPECT_FALSE(CoversHorizon(c, 20));
	EXPECT_FALSE(CoversHorizon(ParseCursor("0"), 1));
	EXPECT_TRUE(CoversHorizon(ParseCursor("0a1b2c3d:10:20:"), 19));
}

TEST(CursorOfSnapshot, SortsRunningTransactions)
{
	Cursor c = CursorOfSnapshot("0a1b2c3d", 10, 20, {15, 12, 15}, 0);
	EXPECT_EQ(FormatCursor(c), "0a1b2c3d:10:20:12,15");
}

TEST(CursorOfSnapshot, AReadersOwnTransactionCountsAsRunning)
{
	// it may still write after the read, or roll back: its changes must stay after the cursor
	EXPECT_EQ(FormatCursor(CursorOfSnapshot("0a1b2c3d", 10, 20, {15, 12}, 13)), "0a1b2c3d:10:20:12,13,15");
	EXPECT_EQ(FormatCursor(CursorOfSnapshot("0a1b2c3d", 10, 20, {12}, 21)), "0a1b2c3d:10:20:12");
}

TEST(CursorOfSnapshot, ACommittingTransactionCountsAsFinished)
{
	Cursor inside = CursorOfSnapshot("0a1b2c3d", 10, 20, {15, 12}, 13, Own::kFinished);
	EXPECT_TRUE(IsVisible(inside, 13));
	Cursor after = CursorOfSnapshot("0a1b2c3d", 10, 20, {12}, 21, Own::kFinished);
	EXPECT_EQ(FormatCursor(after), "0a1b2c3d:10:22:12,20");
}

// The SQLSTATE ReadCursor raises, or "" when it accepts the cursor.
static std::string
ReadSqlstate(const std::string &after, const Cursor &current, std::uint64_t next_xid = 1000)
{
	try {
		ReadCursor(after, current, next_xid, Horizon{});
	} catch (const Error &e) {
		return e.sqlstate();
	}
	return "";
}

TEST(ReadCursor, AcceptsOwnPastCursorsAndZero)
{
	Cursor current = ParseCursor("0a1b2c3d:100:110:104");
	EXPECT_EQ(ReadSqlstate("0a1b2c3d:90:95:91", current), "");
	EXPECT_EQ(ReadSqlstate("0a1b2c3d:100:110:104", current), "");
	EXPECT_EQ(ReadSqlstate("0", current), "");
	CursorReading reading = ReadCursor("0a1b2c3d:90:95:91", current, 1000, Horizon{});
	EXPECT_FALSE(reading.too_old);
	EXPECT_FALSE(reading.ahead);
}

TEST(ReadCursor, RejectsMalformedForeignAndImpossibleCursors)
{
	Cursor current = ParseCursor("0a1b2c3d:100:110:104");
	EXPECT_EQ(ReadSqlstate("nonsense", current), "22P02");
	EXPECT_EQ(ReadSqlstate("ffffffff:90:95:", current), "22023");
	EXPECT_EQ(ReadSqlstate("0a1b2c3d:100:1001:", current, 1000), "22023");
	EXPECT_EQ(ReadSqlstate("0a1b2c3d:100:1000:", current, 1000), "");
}

TEST(ReadCursor, ACursorAheadOfALaggingReaderIsAnsweredWithNothingYet)
{
	Cursor lagging = ParseCursor("0a1b2c3d:100:110:104");
	EXPECT_TRUE(ReadCursor("0a1b2c3d:100:111:", lagging, 1000, Horizon{}).ahead); // newer xmax
	EXPECT_TRUE(ReadCursor("0a1b2c3d:100:110:", lagging, 1000, Horizon{}).ahead); // sees 104 finished
	EXPECT_FALSE(ReadCursor("0a1b2c3d:100:110:104", lagging, 1000, Horizon{}).ahead);
	EXPECT_FALSE(ReadCursor("0", lagging, 1000, Horizon{}).ahead);
}

TEST(ReadCursor, FlagsCursorsOlderThanTheCompactionHorizon)
{
	Cursor current = ParseCursor("0a1b2c3d:100:110:");
	EXPECT_FALSE(ReadCursor("0a1b2c3d:90:95:", current, 1000, Horizon{94, true}).too_old);
	EXPECT_TRUE(ReadCursor("0a1b2c3d:90:95:", current, 1000, Horizon{95, true}).too_old);
	EXPECT_TRUE(ReadCursor("0a1b2c3d:90:95:91", current, 1000, Horizon{92, true}).too_old);
	EXPECT_TRUE(ReadCursor("0", current, 1000, Horizon{0, true}).too_old);
	EXPECT_FALSE(ReadCursor("0", current, 1000, Horizon{}).too_old);
}

// PageCursor: paging the changes after a client's cursor at transaction boundaries.

TEST(PageCursor, TheLastPageAnswersWithTheReadersCursor)
{
	Cursor current = ParseCursor("0a1b2c3d:105:120:105,111,118");
	for (const char *client : {"0", "0a1b2c3d:100:110:102,105", "0a1b2c3d:105:120:105,111,118", "0a1b2c3d:90:90:"})
		EXPECT_EQ(FormatCursor(PageCursor(ParseCursor(client), current, current.xmax)), FormatCursor(current))
		    << "client " << client;
	// a page end past the reader's xmax is the last page too
	EXPECT_EQ(FormatCursor(PageCursor(ParseCursor("0"), current, 1000)), FormatCursor(current));
}

TEST(PageCursor, AWorkedExample)
{
	// The client saw everything below 100 and 103..109 except 102 and 105 (running then). The
	// reader sees 102, 105, 108 and 110..114 finished, 115 still running.
	Cursor client = ParseCursor("0a1b2c3d:102:110:102,105");
	Cursor current = ParseCursor("0a1b2c3d:115:116:115");
	// first page: the transactions below 105, i.e. 102 only
	Cursor first = PageCursor(client, current, 105);
	EXPECT_EQ(FormatCursor(first), "0a1b2c3d:105:110:105");
	// second page: below 112, i.e. 105, 110, 111
	Cursor second = PageCursor(first, current, 112);
	EXPECT_EQ(FormatCursor(second), "0a1b2c3d:112:112:");
	// last page: 112..114; 115 is still running and stays after the answer
	EXPECT_EQ(FormatCursor(PageCursor(second, current, current.xmax)), "0a1b2c3d:115:116:115");
}

TEST(PageCursor, TheZeroCursorGetsTheReadersStore)
{
	Cursor page = PageCursor(ParseCursor("0"), ParseCursor("0a1b2c3d:50:60:55"), 40);
	EXPECT_EQ(FormatCursor(page), "0a1b2c3d:40:40:");
	EXPECT_TRUE(IsVisible(page, 39));
	EXPECT_FALSE(IsVisible(page, 40));
	// a page end of 1 (only rows of other stores delivered) still sees no transaction of this one
	// (ids 0..2 are PostgreSQL's special ids, never a writer's)
	Cursor none = PageCursor(ParseCursor("0"), ParseCursor("0a1b2c3d:50:60:55"), 1);
	for (std::uint64_t xid = 3; xid < 70; xid++)
		EXPECT_FALSE(IsVisible(none, xid)) << xid;
}

namespace {

// A small deterministic pseudo-random generator (the tests must not depend on the platform's).
struct Random {
	std::uint64_t state;
	std::uint64_t
	Next(std::uint64_t bound)
	{
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		return bound ? (state >> 33) % bound : 0;
	}
};

// Writers' transaction ids kFirst..kFirst+kUniverse-1 (3 is PostgreSQL's first normal id).
constexpr std::uint64_t kFirst = 3, kUniverse = 40;

// A reader's cursor as PostgreSQL takes it: xmin is the smallest running transaction, or xmax.
Cursor
RandomSnapshot(Random &random)
{
	Cursor s;
	s.store_id = "0a1b2c3d";
	s.xmax = kFirst + random.Next(kUniverse + 1);
	for (std::uint64_t xid = kFirst; xid < s.xmax; xid++)
		if (random.Next(4) == 0)
			s.xip.push_back(xid);
	s.xmin = s.xip.empty() ? s.xmax : s.xip.front();
	return s;
}

// A client's cursor the reader is not behind: everything it sees finished, the reader does too.
Cursor
RandomClientOf(const Cursor &current, Random &random)
{
	if (random.Next(8) == 0)
		return ParseCursor("0");
	Cursor c;
	c.store_id = current.store_id;
	c.xmax = kFirst + random.Next(current.xmax - kFirst + 1);
	for (std::uint64_t xid = kFirst; xid < c.xmax; xid++)
		if (!IsVisible(current, xid) || random.Next(3) == 0)
			c.xip.push_back(xid);
	c.xmin = c.xip.empty() ? c.xmax : c.xip.front();
	return c;
}

} // namespace

TEST(PageCursor, SeesWhatTheClientSawPlusWhatTheReaderSeesBelowThePageEnd)
{
	Random random{42};
	for (int round = 0; round < 3000; round++) {
		Cursor current = RandomSnapshot(random);
		Cursor client = RandomClientOf(current, random);
		ASSERT_FALSE(IsAhead(client, current));
		for (std::uint64_t end = 0; end <= current.xmax; end++) {
			Cursor page = PageCursor(client, current, end);
			// a well-formed version of the reader's store, never ahead of the reader
			ASSERT_EQ(FormatCursor(ParseCursor(FormatCursor(page))), FormatCursor(page));
			ASSERT_EQ(page.store_id, current.store_id);
			ASSERT_FALSE(IsAhead(page, current));
			for (std::uint64_t xid = 0; xid < kFirst + kUniverse + 2; xid++)
				ASSERT_EQ(IsVisible(page, xid), xid < end ? IsVisible(current, xid) : IsVisible(client, xid))
				    << FormatCursor(client) << " read in " << FormatCursor(current) << ", page end " << end << ": "
				    << FormatCursor(page) << ", xid " << xid;
		}
		ASSERT_EQ(FormatCursor(PageCursor(client, current, current.xmax)), FormatCursor(current));
	}
}

TEST(PageCursor, PagesDeliverEveryTransactionOnceAndEndAtTheReadersCursor)
{
	Random random{7};
	for (int round = 0; round < 3000; round++) {
		Cursor current = RandomSnapshot(random);
		Cursor client = RandomClientOf(current, random);
		// the transactions the unpaged answer delivers
		std::vector<std::uint64_t> expected, delivered;
		for (std::uint64_t xid = kFirst; xid < kFirst + kUniverse; xid++)
			if (IsVisible(current, xid) && !IsVisible(client, xid))
				expected.push_back(xid);
		// pages with increasing page ends chosen at random, as a page size would cut them
		Cursor at = client;
		std::uint64_t end = 0;
		while (end < current.xmax) {
			end = std::min(current.xmax, end + 1 + random.Next(6));
			Cursor next = PageCursor(at, current, end);
			for (std::uint64_t xid = kFirst; xid < kFirst + kUniverse; xid++)
				if (IsVisible(next, xid) && !IsVisible(at, xid))
					delivered.push_back(xid);
				else
					ASSERT_EQ(IsVisible(next, xid), IsVisible(at, xid)) << "a page took back transaction " << xid;
			at = next;
		}
		ASSERT_EQ(delivered, expected) << FormatCursor(client) << " read in " << FormatCursor(current);
		ASSERT_EQ(FormatCursor(at), FormatCursor(current));
	}
}

TEST(PageCursor, APageReadInAnEarlierSnapshotIsContinuedInALaterOne)
{
	// a transaction running during the first page (112) commits before the second: it is delivered
	Cursor client = ParseCursor("0a1b2c3d:100:100:");
	Cursor earlier = ParseCursor("0a1b2c3d:112:120:112");
	Cursor first = PageCursor(client, earlier, 115);
	EXPECT_EQ(FormatCursor(first), "0a1b2c3d:112:115:112");
	EXPECT_FALSE(IsVisible(first, 112));
	Cursor later = ParseCursor("0a1b2c3d:125:125:");
	EXPECT_FALSE(IsAhead(first, later));
	Cursor second = PageCursor(first, later, 113);
	EXPECT_TRUE(IsVisible(second, 112));
	EXPECT_FALSE(IsVisible(second, 116));
	EXPECT_EQ(FormatCursor(PageCursor(second, later, later.xmax)), "0a1b2c3d:125:125:");
}

// ContentMark: what a snapshot's documents depend on (store_snapshot_tag).

TEST(ContentMark, NamesTheStoreTheNewestWriterTheHorizonAndWhatRanBelow)
{
	Cursor snapshot = ParseCursor("0a1b2c3d:748:760:748,751,759");
	EXPECT_EQ(ContentMark(snapshot, 755, 0), "0a1b2c3d:755:0:748,751");
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:760:760:"), 755, 0), "0a1b2c3d:755:0:");
	EXPECT_EQ(
	    ContentMark(ParseCursor("ffffffff:1:18446744073709551615:18446744073709551614"), 18446744073709551615u, 3),
	    "ffffffff:18446744073709551615:3:18446744073709551614");
}

TEST(ContentMark, LeavesOutTransactionsRunningAtOrAboveTheNewestWriter)
{
	// 755 (the newest writer) is finished; 759 may commit later, but then it is the newest writer
	Cursor snapshot = ParseCursor("0a1b2c3d:748:760:748,755,759");
	EXPECT_EQ(ContentMark(snapshot, 758, 0), "0a1b2c3d:758:0:748,755");
	EXPECT_EQ(ContentMark(snapshot, 749, 0), "0a1b2c3d:749:0:748");
	EXPECT_EQ(ContentMark(snapshot, 748, 0), "0a1b2c3d:748:0:");
}

TEST(ContentMark, IgnoresWhatTheDocumentsDoNotDependOn)
{
	// xmin, xmax and transactions running above the newest writer: the same mark
	const char *same[] = {"0a1b2c3d:740:750:740", "0a1b2c3d:740:900:740,800,801", "0a1b2c3d:740:760:740,755"};
	for (const char *text : same)
		EXPECT_EQ(ContentMark(ParseCursor(text), 745, 0), "0a1b2c3d:745:0:740") << text;
	// ... but not the store
	EXPECT_NE(ContentMark(ParseCursor("0a1b2c3d:740:750:740"), 745, 0),
	          ContentMark(ParseCursor("0a1b2c3e:740:750:740"), 745, 0));
}

TEST(ContentMark, AWriterStillRunningBelowTheNewestOneChangesItWhenItEnds)
{
	// 751 wrote first and is still running when 755 commits; then 751 commits
	EXPECT_NE(ContentMark(ParseCursor("0a1b2c3d:751:756:751"), 755, 0),
	          ContentMark(ParseCursor("0a1b2c3d:756:756:"), 755, 0));
}

TEST(ContentMark, ZeroWriterWithoutCompactionListsNothingRunning)
{
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:748:760:748,751,759"), 0, 0), "0a1b2c3d:0:0:");
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:1:1:"), 0, 0), "0a1b2c3d:0:0:");
}

TEST(ContentMark, ListsWhatRunsBelowTheCompactionHorizonToo)
{
	// Compaction removed the rows of everything up to 755 that it saw finished; 751 was still
	// running then. Once it commits, a second compaction may remove its rows and leave the
	// horizon at 755 (the greatest xid removed), and the history without a writer (0): only
	// 751 running below the horizon tells the snapshot before it committed from the one after.
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:751:760:751,759"), 0, 755), "0a1b2c3d:0:755:751");
	EXPECT_NE(ContentMark(ParseCursor("0a1b2c3d:751:760:751,759"), 0, 755),
	          ContentMark(ParseCursor("0a1b2c3d:759:760:759"), 0, 755));
	// the higher of the newest writer and the horizon bounds the list
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:748:770:748,751,759,765"), 752, 760), "0a1b2c3d:752:760:748,751,759");
	EXPECT_EQ(ContentMark(ParseCursor("0a1b2c3d:748:770:748,751,759,765"), 760, 752), "0a1b2c3d:760:752:748,751,759");
}
