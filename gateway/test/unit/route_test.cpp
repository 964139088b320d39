// Routing: the store's read routes, reserved names, percent-decoding, methods.
#include "core/route.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Route, Reads)
{
	EXPECT_EQ(route("GET", "/store/").kind, RouteKind::Snapshot);
	EXPECT_EQ(route("GET", "/store").kind, RouteKind::Snapshot);
	Route k = route("GET", "/store/items/");
	EXPECT_EQ(k.kind, RouteKind::KeySnapshot);
	EXPECT_EQ(k.key, "items");
	Route g = route("GET", "/store/items/1/");
	EXPECT_EQ(g.kind, RouteKind::Get);
	EXPECT_EQ(g.key, "items");
	EXPECT_EQ(g.id, "1");
	EXPECT_EQ(route("GET", "/store/items/1").kind, RouteKind::Get);
}

TEST(Route, CompositeAndEncodedIds)
{
	Route g = route("GET", "/store/order_lines/%5B1%2C23%5D/");
	EXPECT_EQ(g.kind, RouteKind::Get);
	EXPECT_EQ(g.id, "[1,23]");
	Route s = route("GET", "/store/docs/a%2Fb+c/");
	EXPECT_EQ(s.id, "a/b+c") << "'+' is literal in paths, %2F stays inside the segment";
	Route u = route("GET", "/store/caf%C3%A9/x/");
	EXPECT_EQ(u.key, "caf\xC3\xA9");
}

TEST(Route, HistoryAndChanges)
{
	Route h = route("GET", "/store/history/?after=e7%3A1%3A2%3A");
	EXPECT_EQ(h.kind, RouteKind::History);
	EXPECT_EQ(h.after, "e7:1:2:");
	EXPECT_EQ(route("GET", "/store/history/?since=0").after, "0");
	EXPECT_EQ(route("GET", "/store/history?after=0&since=1").after, "0");
	Route c = route("GET", "/store/changes/?after=0&max_changes=5");
	EXPECT_EQ(c.kind, RouteKind::Changes);
	EXPECT_EQ(c.after, "0");
	EXPECT_EQ(c.max_changes, "5");
	EXPECT_EQ(route("GET", "/store/changes/?since=0").kind, RouteKind::BadRequest) << "since is history's alias only";
	EXPECT_EQ(route("GET", "/store/history/").kind, RouteKind::BadRequest);
	EXPECT_EQ(route("GET", "/store/history/?after=").kind, RouteKind::BadRequest);
}

TEST(Route, Events)
{
	EXPECT_EQ(route("GET", "/store/events").kind, RouteKind::Events);
	Route e = route("GET", "/store/events/?after=v%3A1");
	EXPECT_EQ(e.kind, RouteKind::Events);
	EXPECT_EQ(e.after, "v:1");
	EXPECT_EQ(route("GET", "/store/events").after, "");
	Route w = route("GET", "/store/ws?after=0&access_token=t.k.n");
	EXPECT_EQ(w.kind, RouteKind::Ws);
	EXPECT_EQ(w.after, "0");
	EXPECT_EQ(w.access_token, "t.k.n");
	EXPECT_EQ(route("GET", "/store/items/?access_token=x").access_token, "") << "tokens in URLs only on live routes";
}

TEST(Route, ReservedNamesAndUnknownPaths)
{
	for (const char *p : {"/store/history/1/", "/store/changes/x/", "/store/events/x/", "/store/ws/x/",
	                      "/store/version/", "/", "/other", "/storex/", "/store/a/b/c/", "/store//x/", "/store/a//"})
		EXPECT_EQ(route("GET", p).kind, RouteKind::NotFound) << p;
}

TEST(Route, BadRequests)
{
	EXPECT_EQ(route("GET", "/store/%zz/").kind, RouteKind::BadRequest);
	EXPECT_EQ(route("GET", "/store/a/%2").kind, RouteKind::BadRequest);
	EXPECT_EQ(route("GET", "/store/?a=%").kind, RouteKind::BadRequest);
	EXPECT_EQ(route("GET", "http://x/store/").kind, RouteKind::BadRequest);
}

TEST(Route, Writes)
{
	EXPECT_EQ(route("POST", "/store/").kind, RouteKind::ChangeSet);
	Route c = route("POST", "/store/items/");
	EXPECT_EQ(c.kind, RouteKind::Create);
	EXPECT_EQ(c.key, "items");
	Route p = route("PUT", "/store/items/%5B1%2C2%5D/");
	EXPECT_EQ(p.kind, RouteKind::Replace);
	EXPECT_EQ(p.id, "[1,2]");
	EXPECT_EQ(route("PATCH", "/store/items/1/").kind, RouteKind::Update);
	EXPECT_EQ(route("DELETE", "/store/items/1").kind, RouteKind::Delete);
}

TEST(Route, MethodNotAllowed)
{
	struct Case {
		const char *method, *target, *allow;
	} cases[] = {
	    {"DELETE", "/store/", "GET, POST"},
	    {"PUT", "/store/items/", "GET, POST"},
	    {"POST", "/store/items/1/", "GET, PUT, PATCH, DELETE"},
	    {"POST", "/store/history/?after=0", "GET"},
	    {"POST", "/store/events", "GET"},
	    {"HEAD", "/store/items/1/", "GET, PUT, PATCH, DELETE"},
	};
	for (const Case &c : cases) {
		Route r = route(c.method, c.target);
		EXPECT_EQ(r.kind, RouteKind::NotFound) << c.method << " " << c.target;
		EXPECT_EQ(r.allow, c.allow) << c.method << " " << c.target;
	}
	EXPECT_EQ(route("POST", "/store/a/b/c/").allow, "");
	EXPECT_EQ(route("DELETE", "/store/history/1/").allow, "");
}

TEST(Route, PercentDecode)
{
	std::string out;
	EXPECT_TRUE(percent_decode("a%20b+c", out, true));
	EXPECT_EQ(out, "a b c");
	EXPECT_TRUE(percent_decode("a+b", out, false));
	EXPECT_EQ(out, "a+b");
	EXPECT_FALSE(percent_decode("%", out, false));
	EXPECT_FALSE(percent_decode("%a", out, false));
	EXPECT_FALSE(percent_decode("%g0", out, false));
	EXPECT_FALSE(percent_decode("items%00junk", out, false)); // a NUL would cut the key short
}
