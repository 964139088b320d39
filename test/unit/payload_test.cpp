// Unit tests: the NOTIFY payload is small, valid JSON with the version and keys.
#include "core/payload.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using store::core::JsonString;
using store::core::kPayloadLimit;
using store::core::NotifyPayload;

TEST(NotifyPayload, CarriesVersionAndKeys)
{
	auto payload = nlohmann::json::parse(NotifyPayload("0a1b2c3d:5:9:7", {"items", "orders"}));
	EXPECT_EQ(payload["version"], "0a1b2c3d:5:9:7");
	EXPECT_EQ(payload["keys"], nlohmann::json({"items", "orders"}));
	EXPECT_EQ(nlohmann::json::parse(NotifyPayload("0a1b2c3d:5:5:", {}))["keys"], nlohmann::json::array());
}

TEST(NotifyPayload, TooManyKeysBecomeNullAndStayUnderTheLimit)
{
	std::vector<std::string> keys;
	for (int i = 0; i < 400; i++)
		keys.push_back("key_number_" + std::to_string(i) + std::string(30, 'x'));
	std::string text = NotifyPayload("0a1b2c3d:5:9:7", keys);
	EXPECT_LE(text.size(), kPayloadLimit);
	auto payload = nlohmann::json::parse(text);
	EXPECT_TRUE(payload["keys"].is_null());
	EXPECT_EQ(payload["version"], "0a1b2c3d:5:9:7");
}

TEST(NotifyPayload, AHugeVersionBecomesNullToo)
{
	std::string text = NotifyPayload(std::string(9000, '1'), {"items"});
	EXPECT_LE(text.size(), kPayloadLimit);
	EXPECT_EQ(text, "{\"version\":null,\"keys\":null}");
}

TEST(NotifyPayload, RespectsACustomLimitAtTheBoundary)
{
	std::string full = NotifyPayload("v", {"ab"});
	EXPECT_EQ(NotifyPayload("v", {"ab"}, full.size()), full);
	EXPECT_EQ(NotifyPayload("v", {"ab"}, full.size() - 1), "{\"version\":\"v\",\"keys\":null}");
}

TEST(JsonString, EscapesQuotesBackslashesAndControls)
{
	std::string raw = std::string("a\"b\\c\n") + '\x01';
	EXPECT_EQ(nlohmann::json::parse(JsonString(raw)).get<std::string>(), raw);
	EXPECT_EQ(JsonString("items"), "\"items\"");
}

TEST(NotifyPayload, UnknownKeysAreNull)
{
	auto payload = nlohmann::json::parse(store::core::NotifyPayloadWithoutKeys("0a1b2c3d:5:9:7"));
	EXPECT_EQ(payload["version"], "0a1b2c3d:5:9:7");
	EXPECT_TRUE(payload["keys"].is_null());
	auto too_long = nlohmann::json::parse(store::core::NotifyPayloadWithoutKeys(std::string(100, '1'), 50));
	EXPECT_TRUE(too_long["version"].is_null());
}
