// Unit tests: which store keys may be registered.
#include "core/error.hpp"
#include "core/key.hpp"

#include <gtest/gtest.h>

using namespace store::core;

TEST(Key, AcceptsLowerCaseIdentifiers)
{
	for (const char *key : {"items", "a", "order_lines", "v2", "x_1_y"})
		EXPECT_NO_THROW(CheckKey(key)) << key;
	EXPECT_NO_THROW(CheckKey(std::string(kMaxKeyLength, 'a')));
}

TEST(Key, RejectsMalformedKeys)
{
	for (const char *key : {"", "Items", "1items", "_items", "it-ems", "it ems", "items;", "\"items\"", "é"}) {
		EXPECT_FALSE(IsWellFormedKey(key)) << key;
		try {
			CheckKey(key);
			ADD_FAILURE() << "accepted " << key;
		} catch (const Error &e) {
			EXPECT_EQ(e.sqlstate(), "22023");
		}
	}
	EXPECT_FALSE(IsWellFormedKey(std::string(kMaxKeyLength + 1, 'a')));
}

TEST(Key, RejectsReservedKeys)
{
	for (const char *key : {"version", "history", "changes", "events", "ws"}) {
		try {
			CheckKey(key);
			ADD_FAILURE() << "accepted " << key;
		} catch (const Error &e) {
			EXPECT_EQ(e.sqlstate(), "42939");
			EXPECT_NE(std::string(e.what()).find("reserved"), std::string::npos);
		}
	}
	EXPECT_FALSE(IsReservedKey("versions"));
}
