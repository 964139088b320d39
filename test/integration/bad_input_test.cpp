// Integration tests: every SQL function of the store gets hundreds of malformed and edge inputs
// (NULLs, empty and huge strings, unicode, quotes and injection strings, wrong types, malformed
// and future versions). Each call must succeed or fail with a clear, non-internal SQLSTATE; the
// server must not crash, and a failed call must leave nothing behind.
#include "pg_client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

using namespace store::test;

namespace {

const char *const kDatabase = "store_bad_input";

// Strings no function of the store should trip over.
std::vector<Value>
Corpus()
{
	std::vector<Value> corpus = {std::nullopt,
	                             "",
	                             " ",
	                             "items",
	                             "Items",
	                             "ITEMS",
	                             "items ",
	                             " items",
	                             "items\t",
	                             "items\n",
	                             "it ems",
	                             "i",
	                             "_items",
	                             "1items",
	                             "items-1",
	                             "items.1",
	                             "version",
	                             "history",
	                             "store",
	                             "keys",
	                             "entries",
	                             "public.items",
	                             "\"items\"",
	                             "'items'",
	                             "items'",
	                             "items\"",
	                             "items\\",
	                             "items;",
	                             "items; DROP TABLE items; --",
	                             "'); DROP TABLE items; --",
	                             "$$",
	                             "$1",
	                             "%s",
	                             "%I",
	                             "%L",
	                             "%%",
	                             "NULL",
	                             "null",
	                             "true",
	                             "0",
	                             "1",
	                             "-1",
	                             "00",
	                             "2147483648",
	                             "-2147483649",
	                             "9223372036854775807",
	                             "9223372036854775808",
	                             "1e400",
	                             "NaN",
	                             "Infinity",
	                             "-Infinity",
	                             "1.5",
	                             "0x10",
	                             "+1",
	                             "1 day",
	                             "-1 day",
	                             "infinity",
	                             "-infinity",
	                             "forever",
	                             "00:00:00",
	                             "2021-08-19",
	                             "é",
	                             "日本語",
	                             "😀",
	                             "\u00a0",
	                             "\u200b",
	                             "\xc3\xa9\xcc\x81",
	                             "items\u0301",
	                             "a\x01b",
	                             std::string(48, 'a'),
	                             std::string(49, 'a'),
	                             std::string(63, 'a'),
	                             std::string(64, 'a'),
	                             std::string(10000, 'x'),
	                             std::string(1 << 20, '9'),
	                             std::string(100000, ':'),
	                             "pg_class",
	                             "pg_catalog.pg_class",
	                             "information_schema.tables",
	                             "store.history",
	                             "store.entries",
	                             "store.keys",
	                             "nonexistent",
	                             "no_such_schema.items",
	                             "items_view",
	                             "items_mv",
	                             "pairs",
	                             "nokey",
	                             "{}",
	                             "{items}",
	                             "{id,name}",
	                             "{NULL}",
	                             "{\"\"}",
	                             "{id,id}",
	                             "[1,2]",
	                             "{\"a\":1}",
	                             "(1,2)",
	                             "0",
	                             "00000000:0:0:",
	                             "0a1b2c3d:1:2:",
	                             "0a1b2c3d:2:1:",
	                             "0a1b2c3d:1:5:3,2",
	                             "0a1b2c3d:1:5:5",
	                             "0a1b2c3d:1:5:0",
	                             "0a1b2c3d:18446744073709551615:18446744073709551615:",
	                             "0a1b2c3d:1:18446744073709551616:",
	                             "0a1b2c3d:-1:2:",
	                             "0a1b2c3d: 1:2:",
	                             "0a1b2c3d:1:2: ",
	                             "0a1b2c3d:1:2:,",
	                             "0A1B2C3D:1:2:",
	                             "zzzzzzzz:1:2:",
	                             "0a1b2c3d:1:2:3:",
	                             ":::",
	                             "::",
	                             "0:0:0:",
	                             "0a1b2c3d:1:99999999999999:",
	                             "0a1b2c3d:01:02:"};
	// Each of a few valid-looking inputs, spoiled in every way above.
	for (const char *base : {"items", "1", "0a1b2c3d:1:2:"})
		for (const char *spoil : {"'", "\"", ";", " ", "\\", "é", "--", "%", "\t", "()", "[]", "{}", "::", ","}) {
			corpus.push_back(std::string(base) + spoil);
			corpus.push_back(std::string(spoil) + base);
		}
	return corpus;
}

class BadInputTest : public ::testing::Test {
protected:
	static void
	SetUpTestSuite()
	{
		RecreateStoreDatabase(kDatabase);
		Connection db(ConninfoFor(kDatabase));
		db.Exec("CREATE TABLE items (id int PRIMARY KEY, name text)");
		db.Exec("INSERT INTO items VALUES (1, 'one'), (2, 'two')");
		db.Exec("CREATE VIEW items_view AS SELECT * FROM items");
		db.Exec("CREATE MATERIALIZED VIEW items_mv AS SELECT * FROM items");
		db.Exec("CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b))");
		db.Exec("CREATE TABLE nokey (id int)");
		db.Exec("SELECT store_register('items', 'items')");
	}

	void
	SetUp() override
	{
		db = std::make_unique<Connection>(ConninfoFor(kDatabase));
		db->Exec("SET client_min_messages = warning");
	}

	// A fingerprint of the store's whole state.
	std::string
	State()
	{
		return db->Scalar(
		    "SELECT md5(coalesce((SELECT string_agg(k::text, '|' ORDER BY k.key) FROM store.keys k), '') || "
		    "coalesce((SELECT string_agg(e::text, '|' ORDER BY e.key, e.id) FROM store.entries e), '') || "
		    "(SELECT count(*) FROM store.history)::text || "
		    "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'store\\_%')::text)");
	}

	// Calls sql with every argument list; checks errors are clean and failures change nothing.
	// Returns how many calls were made.
	int
	Hammer(const std::string &sql, const std::vector<std::vector<Value>> &argument_lists, const std::string &undo = "")
	{
		int calls = 0;
		for (const std::vector<Value> &args : argument_lists) {
			std::string before = State();
			try {
				db->Exec(sql, args);
				if (!undo.empty())
					db->Exec(undo, {args[0]});
			} catch (const SqlError &e) {
				std::string state = e.sqlstate();
				EXPECT_EQ(state.size(), 5u) << sql << ": no SQLSTATE: " << e.what();
				EXPECT_NE(state.substr(0, 2), "XX") << sql << ": internal error: " << e.what();
				EXPECT_NE(state.substr(0, 2), "58") << sql << ": system error: " << e.what();
				EXPECT_NE(state.substr(0, 2), "57") << sql << ": server gone: " << e.what();
				EXPECT_EQ(State(), before) << sql << ": a failed call left something behind";
			}
			calls++;
		}
		EXPECT_EQ(db->Scalar("SELECT count(*) FROM store_verify()"), "0") << sql;
		return calls;
	}

	// Every corpus entry as a one-argument list.
	static std::vector<std::vector<Value>>
	Singles()
	{
		std::vector<std::vector<Value>> lists;
		for (const Value &v : Corpus())
			lists.push_back({v});
		return lists;
	}

	// Pairs: each corpus entry beside a few fixed partners, in both positions.
	static std::vector<std::vector<Value>>
	Pairs(const std::vector<Value> &partners)
	{
		std::vector<std::vector<Value>> lists;
		for (const Value &v : Corpus())
			for (const Value &p : partners) {
				lists.push_back({v, p});
				lists.push_back({p, v});
			}
		return lists;
	}

	std::unique_ptr<Connection> db;
};

TEST_F(BadInputTest, CorpusIsLargeEnough)
{
	EXPECT_GE(Corpus().size(), 200u);
	EXPECT_GE(Pairs({Value("items"), std::nullopt}).size(), 200u);
}

TEST_F(BadInputTest, StoreRegister)
{
	int calls = Hammer("SELECT store_register($1, $2)", Pairs({Value("items"), Value("nokey"), std::nullopt}),
	                   "SELECT store_unregister($1)");
	calls += Hammer("SELECT store_register('other_key', 'items', $1::text[])", Singles());
	EXPECT_GE(calls, 200);
}

TEST_F(BadInputTest, StoreUnregisterReloadSnapshotVerify)
{
	EXPECT_GE(Hammer("SELECT store_unregister($1)", Singles(), "SELECT store_register($1, 'items')") +
	              Hammer("SELECT store_reload($1)", Singles()) + Hammer("SELECT store_snapshot($1)", Singles()) +
	              Hammer("SELECT * FROM store_verify($1)", Singles()),
	          4 * 200);
}

TEST_F(BadInputTest, StoreGet)
{
	EXPECT_GE(Hammer("SELECT store_get($1, $2)", Pairs({Value("items"), Value("1"), std::nullopt})), 200);
}

TEST_F(BadInputTest, StoreHistoryAndChanges)
{
	std::vector<std::vector<Value>> versions = Singles();
	std::string id = db->Scalar("SELECT split_part(store_version(), ':', 1)");
	for (const char *tail : {":0:0:", ":1:2:", ":5:99999999999:", ":1:1000000:999999", ":0:18446744073709551615:"})
		versions.push_back({id + tail});
	EXPECT_GE(Hammer("SELECT count(*) FROM store_history($1)", versions) + Hammer("SELECT store_changes($1)", versions),
	          2 * 200);
}

TEST_F(BadInputTest, StoreCompact)
{
	std::vector<std::vector<Value>> intervals = Singles();
	for (const char *i : {"1 year", "100 years", "1000000 years", "-1 second", "0", "@ 1 minute ago", "P1D"})
		intervals.push_back({Value(i)});
	EXPECT_GE(Hammer("SELECT store_compact($1::text::interval)", intervals), 200);
}

} // namespace
