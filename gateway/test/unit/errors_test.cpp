// The SQLSTATE -> HTTP status table (one case per row) and the error body.
#include "core/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace gw;

TEST(Errors, StatusPerSqlstate)
{
	struct Case {
		const char *state;
		int status;
	} cases[] = {
	    {"08006", 503}, {"08001", 503}, {"23503", 409}, {"23505", 409}, {"25006", 405}, {"28000", 403}, {"0L000", 403},
	    {"0P000", 403}, {"42P01", 404}, {"42883", 404}, {"42704", 404}, {"53300", 503}, {"P0001", 400}, {"XX000", 500},
	    {"40001", 409}, {"40P01", 409}, {"54000", 500}, {"22P02", 400}, {"22023", 400}, {"42703", 400}, {"0A000", 400},
	    {"57014", 500}, {"57P01", 503}, {"PT402", 402}, {"PT999", 500}, {"P0002", 500}, {"42P17", 500}, {"", 500},
	};
	for (const Case &c : cases)
		EXPECT_EQ(status_for_sqlstate(c.state, false), c.status) << c.state;
}

TEST(Errors, InsufficientPrivilegeDependsOnAuthentication)
{
	EXPECT_EQ(status_for_sqlstate("42501", true), 401);
	EXPECT_EQ(status_for_sqlstate("42501", false), 403);
}

TEST(Errors, BodyHasTheFourFieldsWithNulls)
{
	auto j = nlohmann::json::parse(error_body(from_database("42704", "key \"x\" is not registered", "", "", false)));
	EXPECT_EQ(j["code"], "42704");
	EXPECT_EQ(j["message"], "key \"x\" is not registered");
	EXPECT_TRUE(j["details"].is_null());
	EXPECT_TRUE(j["hint"].is_null());
	EXPECT_EQ(j.size(), 4u);
	auto k = nlohmann::json::parse(error_body(gateway_error(503, "GW503", "busy", "retry later")));
	EXPECT_EQ(k["hint"], "retry later");
}

TEST(Errors, InvalidUtf8InMessagesStaysValidJson)
{
	std::string body = error_body(from_database("22P02", "bad \xff byte", "", "", false));
	EXPECT_NO_THROW(nlohmann::json::parse(body));
}

// RFC 7235: a 401 carries WWW-Authenticate; the anonymous role's 42501 had none.
TEST(Errors, Unauthorized401CarriesABearerChallenge)
{
	EXPECT_EQ(from_database("42501", "permission denied", "", "", true).www_authenticate, "Bearer");
	EXPECT_EQ(from_database("PT401", "log in", "", "", false).www_authenticate, "Bearer");
	EXPECT_EQ(from_database("42501", "permission denied", "", "", false).www_authenticate, "");
	EXPECT_EQ(gateway_error(401, "GW302", "send a token").www_authenticate, "Bearer");
	EXPECT_EQ(gateway_error(404, "GW404", "no").www_authenticate, "");
}

// Every 503 says when to retry: the gateway's own soon, the database's later.
TEST(Errors, Unavailable503CarriesRetryAfter)
{
	EXPECT_EQ(from_database("57P03", "the database system is starting up", "", "", false).retry_after, "5");
	EXPECT_EQ(gateway_error(503, "GW503", "too many event streams").retry_after, "1");
	EXPECT_EQ(from_database("22P02", "bad", "", "", false).retry_after, "");
}

// Pool exhausted and database unreachable: one code and status (the latter was GW504 with 503).
TEST(Errors, NoConnectionIsGw503EitherWay)
{
	HttpError busy = unavailable(true, "no database connection free (the pool is exhausted)");
	HttpError down = unavailable(false, "database unavailable: connection refused");
	EXPECT_EQ(busy.status, 503);
	EXPECT_EQ(down.status, 503);
	EXPECT_EQ(busy.code, "GW503");
	EXPECT_EQ(down.code, "GW503");
	EXPECT_EQ(busy.retry_after, "1");
	EXPECT_EQ(down.retry_after, "5");
	EXPECT_EQ(busy.hint, "retry later");
	EXPECT_EQ(down.hint, "the database is unreachable; retry later");
	EXPECT_EQ(down.message, "database unavailable: connection refused");
}
