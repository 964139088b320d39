// Live push: SSE framing, notification payloads, coalescing for slow subscribers, resume points.
#include "core/live.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Live, EventFraming)
{
	LiveEvent e{"v:1:2:", {"orders", "items"}, false};
	EXPECT_EQ(sse_event(e), "id: v:1:2:\ndata: {\"version\":\"v:1:2:\",\"keys\":[\"items\",\"orders\"]}\n\n");
	LiveEvent all{"v:3:3:", {}, true};
	EXPECT_EQ(event_json(all), "{\"version\":\"v:3:3:\",\"keys\":null}");
	EXPECT_EQ(sse_id_only("v:1:1:"), "id: v:1:1:\n\n");
	EXPECT_EQ(sse_comment("keep-alive"), ": keep-alive\n\n");
	EXPECT_EQ(sse_retry(2000), "retry: 2000\n\n");
	EXPECT_EQ(sse_id_only("a\nb"), "id: \n\n") << "nothing can inject lines";
}

TEST(Live, MergeKeepsTheLatestVersionAndAllKeys)
{
	LiveEvent a{"v1", {"a"}, false}, b{"v2", {"b"}, false}, u{"v3", {}, true};
	LiveEvent m = merge(a, b);
	EXPECT_EQ(m.version, "v2");
	EXPECT_EQ(m.keys, (std::set<std::string>{"a", "b"}));
	EXPECT_FALSE(m.all_keys);
	LiveEvent n = merge(m, u);
	EXPECT_EQ(n.version, "v3");
	EXPECT_TRUE(n.all_keys);
	EXPECT_TRUE(merge(u, a).all_keys) << "unknown keys stay unknown";
	LiveEvent many{"v0", {}, false};
	for (int i = 0; i < 1000; i++)
		many = merge(many, LiveEvent{"v" + std::to_string(i), {"k"}, false});
	EXPECT_EQ(many.keys.size(), 1u) << "a slow subscriber holds one event, whatever it missed";
	EXPECT_EQ(many.version, "v999");
}

TEST(Live, Notifications)
{
	LiveEvent e = parse_notification(R"({"version": "v:1:2:", "keys": ["items", "orders"]})");
	EXPECT_FALSE(e.all_keys);
	EXPECT_EQ(e.keys, (std::set<std::string>{"items", "orders"}));
	EXPECT_TRUE(parse_notification(R"({"version": "v", "keys": null})").all_keys);
	EXPECT_TRUE(parse_notification("").all_keys);
	EXPECT_TRUE(parse_notification("garbage").all_keys);
	EXPECT_TRUE(parse_notification("[1]").all_keys);
}

TEST(Live, ResumePoint)
{
	EXPECT_EQ(resume_point("a", "b").value(), "a") << "Last-Event-ID wins over ?after=";
	EXPECT_EQ(resume_point("", "b").value(), "b");
	EXPECT_FALSE(resume_point("", "").has_value());
}
