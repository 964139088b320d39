// Options from the command line and the environment.
#include "core/options.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace gw;

TEST(Options, CommandLine)
{
	auto p = parse_options({"--db", "dbname=x", "--listen", "0.0.0.0:9000", "--anon-role=anon", "--jwt-secret",
	                        std::string(32, 's'), "--pool-size", "3", "--cache-size", "0"},
	                       {});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.db, "dbname=x");
	EXPECT_EQ(p.options.listen_host, "0.0.0.0");
	EXPECT_EQ(p.options.listen_port, "9000");
	EXPECT_EQ(p.options.anon_role, "anon");
	EXPECT_EQ(p.options.pool_size, 3);
	EXPECT_EQ(p.options.cache_bytes, 0u);
	EXPECT_EQ(p.options.jwt_role_claim, "role");
	EXPECT_EQ(parse_options({"--db", "x"}, {}).options.cache_bytes, std::size_t(64) << 20);
	EXPECT_EQ(parse_options({"--db", "x", "--cache-size", "3"}, {}).options.cache_bytes, std::size_t(3) << 20);
	EXPECT_EQ(parse_options({"--db", "x", "--cache-size", "256kB"}, {}).options.cache_bytes, std::size_t(256) << 10);
	EXPECT_EQ(parse_options({"--db", "x", "--cache-size", "2GB"}, {}).options.cache_bytes, std::size_t(2) << 30);
	for (std::string bad : {"-1", "", "MB", "12mb", "1TB", "1.5MB", "99999999999999GB"})
		EXPECT_NE(parse_options({"--db", "x", "--cache-size", bad}, {}).error, "") << bad;
}

TEST(Options, EnvironmentAndPrecedence)
{
	auto p = parse_options(
	    {"--anon-role", "cli"},
	    {{"STORE_HTTP_DB", "dbname=env"}, {"STORE_HTTP_ANON_ROLE", "env"}, {"STORE_HTTP_JWT_ROLE_CLAIM", "app.role"}});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.db, "dbname=env");
	EXPECT_EQ(p.options.anon_role, "cli") << "the command line wins";
	EXPECT_EQ(p.options.jwt_role_claim, "app.role");
}

TEST(Options, SecretFile)
{
	std::string path = ::testing::TempDir() + "gw-secret";
	std::ofstream(path) << std::string(40, 'k') << "\n";
	auto p = parse_options({"--db", "x", "--jwt-secret-file", path}, {});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.jwt_secret, std::string(40, 'k')) << "the trailing newline is dropped";
	std::remove(path.c_str());
	EXPECT_NE(parse_options({"--db", "x", "--jwt-secret-file", path}, {}).error, "");
}

TEST(Options, Errors)
{
	EXPECT_NE(parse_options({}, {}).error.find("--db"), std::string::npos);
	EXPECT_NE(parse_options({"--db"}, {}).error, "");
	EXPECT_NE(parse_options({"--db", "x", "--nope", "1"}, {}).error.find("unknown option"), std::string::npos);
	EXPECT_NE(parse_options({"--db", "x", "--listen", "8080"}, {}).error, "");
	EXPECT_NE(parse_options({"--db", "x", "--listen", "h:99999"}, {}).error, "");
	EXPECT_NE(parse_options({"--db", "x", "--pool-size", "0"}, {}).error, "");
	EXPECT_NE(parse_options({"--db", "x", "--pool-size", "-1"}, {}).error, "");
	EXPECT_NE(parse_options({"--db", "x", "--jwt-secret", "short"}, {}).error.find("32"), std::string::npos);
	EXPECT_NE(parse_options({"--db", "x", "stray"}, {}).error, "");
}

TEST(Options, Help)
{
	EXPECT_TRUE(parse_options({"--help"}, {}).options.help);
	std::string h = help_text();
	for (const char *o : {"--db", "--listen", "--anon-role", "--jwt-secret", "--jwt-secret-file",
	                      "--jwt-public-key-file", "--jwt-role-claim", "STORE_HTTP_DB"})
		EXPECT_NE(h.find(o), std::string::npos) << o;
}

TEST(Options, SplitListen)
{
	std::string h, p;
	EXPECT_TRUE(split_listen("[::1]:8080", h, p));
	EXPECT_EQ(h, "::1");
	EXPECT_EQ(p, "8080");
	EXPECT_FALSE(split_listen(":8080", h, p));
	EXPECT_FALSE(split_listen("host:", h, p));
}

// The body has its own deadline (the header timeout bounded the body too).
TEST(Options, BodyTimeout)
{
	auto d = parse_options({"--db", "x"}, {});
	EXPECT_EQ(d.options.header_timeout_ms, 10000);
	EXPECT_EQ(d.options.body_timeout_ms, 60000);
	auto p = parse_options({"--db", "x", "--body-timeout", "1500"}, {{"STORE_HTTP_HEADER_TIMEOUT", "300"}});
	ASSERT_EQ(p.error, "");
	EXPECT_EQ(p.options.body_timeout_ms, 1500);
	EXPECT_EQ(p.options.header_timeout_ms, 300);
	EXPECT_EQ(parse_options({"--db", "x"}, {{"STORE_HTTP_BODY_TIMEOUT", "20"}}).options.body_timeout_ms, 20);
	EXPECT_NE(parse_options({"--db", "x", "--body-timeout", "0"}, {}).error, "");
	EXPECT_NE(help_text().find("--body-timeout"), std::string::npos);
}
