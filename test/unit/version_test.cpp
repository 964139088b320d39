// Unit tests: parsing and rendering versions (history cursors).
#include "core/error.hpp"
#include "core/version.hpp"

#include <gtest/gtest.h>

using store::core::Error;
using store::core::FormatVersion;
using store::core::kMaxVersion;
using store::core::ParseVersion;

TEST(ParseVersion, AcceptsDecimalDigits)
{
	EXPECT_EQ(ParseVersion("0"), 0);
	EXPECT_EQ(ParseVersion("42"), 42);
	EXPECT_EQ(ParseVersion("007"), 7);
	EXPECT_EQ(ParseVersion("9007199254740991"), kMaxVersion);
}

// Returns the SQLSTATE ParseVersion raises for text, or "" when it accepts it.
static std::string
SqlstateOf(const std::string &text)
{
	try {
		ParseVersion(text);
	} catch (const Error &e) {
		return e.sqlstate();
	}
	return "";
}

TEST(ParseVersion, RejectsMalformedText)
{
	for (const char *bad : {"", " 1", "1 ", "-1", "+1", "1.5", "1e3", "abc", "0x10", "１"})
		EXPECT_EQ(SqlstateOf(bad), "22P02") << "input: " << bad;
}

TEST(ParseVersion, RejectsVersionsBeyondJavaScriptPrecision)
{
	EXPECT_EQ(SqlstateOf("9007199254740992"), "22003");
	EXPECT_EQ(SqlstateOf("99999999999999999999999999"), "22003");
}

TEST(ParseVersion, ErrorMessageQuotesAShortenedInput)
{
	try {
		ParseVersion(std::string(500, 'x'));
		FAIL() << "expected an error";
	} catch (const Error &e) {
		EXPECT_LT(std::string(e.what()).size(), 80u);
		EXPECT_NE(std::string(e.what()).find("..."), std::string::npos);
		EXPECT_FALSE(e.hint().empty());
	}
}

TEST(FormatVersion, RoundTripsThroughParse)
{
	for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{123456789}, kMaxVersion})
		EXPECT_EQ(ParseVersion(FormatVersion(v)), v);
}
