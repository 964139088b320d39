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
