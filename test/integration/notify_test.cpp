// Integration tests against a live server (libpq, connection from the PG* environment):
// NOTIFY on channel "store" — one per committed transaction that changed the store, none for a
// rollback, a version that sees the commit, the keys touched, always under 8000 bytes. With the
// library preloaded, the database's store notifier may announce a commit instead of its writer:
// its "keys" are null (README, "The notifier"), and the tests accept exactly that from it.
#include "pg_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>

using namespace store::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const char *const kDatabase = "store_integration";

class NotifyTest : public ::testing::Test {
protected:
	static void
	SetUpTestSuite()
	{
		RecreateStoreDatabase(kDatabase);
	}

	void
	SetUp() override
	{
		writer = std::make_unique<Connection>(ConninfoFor(kDatabase));
		writer_pid = std::stoi(writer->Scalar("SELECT pg_backend_pid()"));
		writer->Exec("SET client_min_messages = warning");
		writer->Exec("DROP EXTENSION IF EXISTS store CASCADE");
		writer->Exec("DROP TABLE IF EXISTS items, notes, wide");
		writer->Exec("CREATE EXTENSION store");
		writer->Exec("CREATE TABLE items (id int PRIMARY KEY, name text)");
		writer->Exec("CREATE TABLE notes (id int PRIMARY KEY, body text)");
		listener = std::make_unique<Connection>(ConninfoFor(kDatabase));
		listener->Exec("LISTEN store");
		writer->Exec("SELECT store_register('items', 'items')");
		writer->Exec("SELECT store_register('notes', 'notes')");
		AwaitAnnouncementOfEverything();
	}

	// Waits until a notification announces every commit so far (a store notifier may announce
	// the registrations late): a test then gets only the notifications of its own commits.
	void
	AwaitAnnouncementOfEverything()
	{
		for (int attempt = 0; attempt < 20; attempt++)
			for (const json &payload : Received())
				if (payload["version"].is_string() && ChangesAfter(payload["version"]) == 0)
					return;
		FAIL() << "the registrations were never announced";
	}

	// The notifications the listener got, parsed; waits up to timeout for the first one. Their
	// senders' process ids go to senders, in the same order.
	std::vector<json>
	Received(std::chrono::milliseconds timeout = 2000ms)
	{
		std::vector<json> payloads;
		senders.clear();
		for (const Notification &n : listener->WaitForNotifications(timeout)) {
			EXPECT_EQ(n.channel, "store");
			EXPECT_LT(n.payload.size(), 8000u);
			payloads.push_back(json::parse(n.payload));
			senders.push_back(n.sender_pid);
		}
		return payloads;
	}

	// The backend type of process pid (empty once it has left).
	std::string
	BackendType(int pid)
	{
		return writer->Scalar("SELECT coalesce((SELECT backend_type FROM pg_stat_activity WHERE pid = $1::int), '')",
		                      {std::to_string(pid)});
	}

	// Checks notification i of the last Received(): the writer's own names the keys its
	// transaction touched; one from the database's store notifier (library preloaded) names none.
	void
	ExpectKeys(const std::vector<json> &got, size_t i, const json &keys)
	{
		ASSERT_LT(i, senders.size());
		if (senders[i] == writer_pid) {
			EXPECT_EQ(got[i]["keys"], keys);
			return;
		}
		EXPECT_EQ(BackendType(senders[i]), "store notifier") << "notification sent by process " << senders[i];
		EXPECT_TRUE(got[i]["keys"].is_null()) << got[i].dump();
	}

	// Number of history rows after version (as the writer sees them).
	int
	ChangesAfter(const std::string &version)
	{
		return std::stoi(writer->Scalar("SELECT count(*) FROM store_history($1)", {version}));
	}

	std::unique_ptr<Connection> writer;
	int writer_pid = 0;
	std::unique_ptr<Connection> listener;
	std::vector<int> senders;
};

TEST_F(NotifyTest, OneNotificationPerTransactionWithEveryKeyItTouched)
{
	writer->Exec("BEGIN");
	writer->Exec("INSERT INTO items VALUES (1, 'a'), (2, 'b')");
	writer->Exec("UPDATE items SET name = 'B' WHERE id = 2");
	writer->Exec("INSERT INTO notes VALUES (1, 'hello')");
	writer->Exec("COMMIT");
	std::vector<json> got = Received();
	ASSERT_EQ(got.size(), 1u);
	ExpectKeys(got, 0, json({"items", "notes"}));
	EXPECT_TRUE(got[0]["version"].is_string());
}

TEST_F(NotifyTest, TheVersionSeesTheCommit)
{
	std::string before = writer->Scalar("SELECT store_version()");
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	std::vector<json> got = Received();
	ASSERT_EQ(got.size(), 1u);
	std::string version = got[0]["version"];
	EXPECT_EQ(ChangesAfter(before), 1);  // the change is after the version the client held
	EXPECT_EQ(ChangesAfter(version), 0); // and not after the notified one
}

// (Each notification is awaited before the next commit: a store notifier announces the commits
// it is woken for together.)
TEST_F(NotifyTest, EachAutocommitStatementNotifiesOnce)
{
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	std::vector<json> first = Received();
	writer->Exec("INSERT INTO items VALUES (2, 'b')");
	std::vector<json> second = Received();
	ASSERT_EQ(first.size(), 1u);
	ASSERT_EQ(second.size(), 1u);
	EXPECT_NE(first[0]["version"], second[0]["version"]);
}

TEST_F(NotifyTest, RollbacksAndUnchangedDocumentsNotifyNothing)
{
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	ASSERT_EQ(Received().size(), 1u);
	writer->Exec("BEGIN");
	writer->Exec("INSERT INTO items VALUES (2, 'b')");
	writer->Exec("ROLLBACK");
	writer->Exec("BEGIN");
	writer->Exec("SAVEPOINT s");
	writer->Exec("INSERT INTO items VALUES (3, 'c')");
	writer->Exec("ROLLBACK TO SAVEPOINT s");
	writer->Exec("COMMIT");
	writer->Exec("UPDATE items SET name = name");
	writer->Exec("CREATE TABLE unrelated (id int)");
	writer->Exec("DROP TABLE unrelated");
	EXPECT_EQ(Received(500ms).size(), 0u);
}

TEST_F(NotifyTest, ASavepointRollbackForgetsExactlyItsPart)
{
	writer->Exec("BEGIN");
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	writer->Exec("SAVEPOINT s");
	writer->Exec("INSERT INTO notes VALUES (1, 'undone')");
	writer->Exec("ROLLBACK TO SAVEPOINT s");
	writer->Exec("SAVEPOINT t");
	writer->Exec("UPDATE items SET name = 'kept' WHERE id = 1");
	writer->Exec("RELEASE SAVEPOINT t");
	writer->Exec("COMMIT");
	std::vector<json> got = Received();
	ASSERT_EQ(got.size(), 1u);
	ExpectKeys(got, 0, json({"items"}));
}

TEST_F(NotifyTest, AReloadNamesEveryKeyAndAnEmptyStoreNone)
{
	writer->Exec("SELECT store_reload()");
	std::vector<json> got = Received();
	ASSERT_EQ(got.size(), 1u);
	ExpectKeys(got, 0, json({"items", "notes"}));
	writer->Exec("SELECT store_unregister('items'), store_unregister('notes')");
	ASSERT_EQ(Received().size(), 1u);
	writer->Exec("SELECT store_reload()");
	got = Received();
	ASSERT_EQ(got.size(), 1u);
	ExpectKeys(got, 0, json::array());
}

TEST_F(NotifyTest, TooManyKeysForThePayloadBecomeNull)
{
	writer->Exec("CREATE TABLE wide (id int PRIMARY KEY)");
	writer->Exec("DO $$ BEGIN FOR i IN 1..170 LOOP "
	             "PERFORM store_register(format('key_%s_%s', lpad(i::text, 3, '0'), repeat('x', 40)), 'wide'); "
	             "END LOOP; END $$");
	Received(500ms);
	writer->Exec("INSERT INTO wide VALUES (1)");
	std::vector<json> got = Received();
	ASSERT_EQ(got.size(), 1u);
	EXPECT_TRUE(got[0]["keys"].is_null());
	EXPECT_TRUE(got[0]["version"].is_string());
}

TEST_F(NotifyTest, WritersCommittingOutOfOrderEachNotifyOnce)
{
	Connection early(ConninfoFor(kDatabase));
	std::string before = writer->Scalar("SELECT store_version()");
	early.Exec("BEGIN");
	early.Exec("INSERT INTO items VALUES (1, 'early')");
	writer->Exec("INSERT INTO items VALUES (2, 'late')");
	std::vector<json> late_got = Received(); // (awaited first: a store notifier would announce both at once)
	early.Exec("COMMIT");
	std::vector<json> early_got = Received();
	ASSERT_EQ(late_got.size(), 1u);
	ASSERT_EQ(early_got.size(), 1u);
	// The late writer's version does not see the early one (still running then) ...
	EXPECT_EQ(ChangesAfter(late_got[0]["version"]), 1);
	// ... the early writer's does see both.
	EXPECT_EQ(ChangesAfter(early_got[0]["version"]), 0);
	EXPECT_EQ(ChangesAfter(before), 2);
}

TEST_F(NotifyTest, StoreNotifyOffSilencesCommitsButNotTheHistory)
{
	std::string version = writer->Scalar("SELECT store_version()");
	writer->Exec("SET store.notify = off");
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	EXPECT_EQ(Received(500ms).size(), 0u);
	EXPECT_EQ(ChangesAfter(version), 1);
	writer->Exec("RESET store.notify");
	writer->Exec("INSERT INTO items VALUES (2, 'b')");
	EXPECT_EQ(Received().size(), 1u);
}

TEST_F(NotifyTest, APreparedTransactionIsRefused)
{
	writer->Exec("BEGIN");
	writer->Exec("INSERT INTO items VALUES (1, 'a')");
	try {
		writer->Exec("PREPARE TRANSACTION 'store_it'");
		FAIL() << "PREPARE TRANSACTION was accepted";
	} catch (const SqlError &e) {
		EXPECT_EQ(e.sqlstate(), "0A000");
	}
	EXPECT_EQ(Received(300ms).size(), 0u);
}

} // namespace
