// The OpenAPI document: valid JSON, OpenAPI 3.1, every route and method the router serves.
#include "core/openapi.hpp"
#include "core/route.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace gw;

TEST(OpenApi, DescribesEveryRoute)
{
	auto doc = nlohmann::json::parse(openapi_json());
	EXPECT_EQ(doc["openapi"], "3.1.0");
	struct Case {
		const char *path, *method, *target;
	} cases[] = {
	    {"/store/", "get", "/store/"},
	    {"/store/", "post", "/store/"},
	    {"/store/{key}/", "get", "/store/k/"},
	    {"/store/{key}/", "post", "/store/k/"},
	    {"/store/{key}/{id}/", "get", "/store/k/1/"},
	    {"/store/{key}/{id}/", "put", "/store/k/1/"},
	    {"/store/{key}/{id}/", "patch", "/store/k/1/"},
	    {"/store/{key}/{id}/", "delete", "/store/k/1/"},
	    {"/store/history/", "get", "/store/history/?after=0"},
	    {"/store/changes/", "get", "/store/changes/?after=0"},
	    {"/store/events", "get", "/store/events"},
	    {"/store/ws", "get", "/store/ws"},
	};
	for (const Case &c : cases) {
		EXPECT_TRUE(doc["paths"].contains(c.path) && doc["paths"][c.path].contains(c.method)) << c.path << c.method;
		std::string m = c.method;
		for (char &ch : m)
			ch = char(std::toupper(static_cast<unsigned char>(ch)));
		Route r = route(m, c.target);
		EXPECT_NE(r.kind, RouteKind::NotFound) << m << " " << c.target;
	}
	EXPECT_EQ(route("GET", "/openapi.json").kind, RouteKind::OpenApi);
	EXPECT_EQ(route("POST", "/openapi.json").allow, "GET");
}
