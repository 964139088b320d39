// Stress test of the change feed: concurrent writers run random multi-row transactions (inserts,
// updates, deletes, primary-key changes, savepoint rollbacks, whole rollbacks, now and then a
// reload or a TRUNCATE) while an unrelated transaction holds an xid open. Two followers start
// from a snapshot: one applies store_history (woken by NOTIFY), one applies store_changes and
// checks its copy against a snapshot read in the same transaction after every delta.
// At the end both copies, store_snapshot() and the tables serialized directly must be equal, and
// the history rows the first follower received must be exactly those committed after its start
// (checked with PostgreSQL's own pg_visible_in_snapshot): nothing missed, nothing twice.
//
// Usage: store_stress [writers] [seconds]   (connection from the PG* environment)
#include "pg_client.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace store::test;
using json = nlohmann::json;

namespace {

const char *const kDatabase = "store_stress";
const std::vector<std::string> kKeys = {"accounts", "orders"};

// A follower's copy of the store: key -> (id as JSON text -> document).
using Copy = std::map<std::string, std::map<std::string, json>>;

struct Counters {
	std::atomic<long> failed_writers{0};
	std::atomic<long> committed{0}, rolled_back{0}, conflicts{0}, savepoint_rollbacks{0}, reloads{0}, truncates{0};
};

// Creates the database, the tables and the registrations.
void
Setup()
{
	RecreateStoreDatabase(kDatabase);
	Connection db(ConninfoFor(kDatabase));
	db.Exec("CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric, tags text[])");
	db.Exec("CREATE TABLE orders (id bigint PRIMARY KEY, account int, qty int, note text, secret text)");
	db.Exec(
	    "INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5, ARRAY['t' || g % 3] FROM generate_series(1, 200) g");
	db.Exec("INSERT INTO orders SELECT g, g % 200, g % 7, 'note', 'hidden' FROM generate_series(1, 200) g");
	db.Exec("SELECT store_register('accounts', 'accounts')");
	db.Exec("SELECT store_register('orders', 'orders', ARRAY['id', 'account', 'qty', 'note'])");
}

// One random statement of a writer's transaction: a few rows at a time, so writers interleave.
std::string
RandomStatement(std::mt19937 &rng)
{
	auto id = [&](int hi) { return std::to_string(std::uniform_int_distribution<int>(1, hi)(rng)); };
	switch (std::uniform_int_distribution<int>(0, 8)(rng)) {
	case 0:
		return "INSERT INTO accounts SELECT g, 'new', 1, '{}' FROM generate_series(" + id(400) + ", " + id(400) +
		       " + 2) g ON CONFLICT DO NOTHING";
	case 1:
		return "INSERT INTO orders VALUES (" + id(600) + ", " + id(200) + ", 1, 'n', 's') ON CONFLICT DO NOTHING";
	case 2:
		return "UPDATE accounts SET balance = balance + 1, tags = tags || 'x'::text WHERE id BETWEEN " + id(400) +
		       " AND " + id(400) + " + 3";
	case 3:
		return "UPDATE orders SET qty = qty + 1 WHERE id BETWEEN " + id(600) + " AND " + id(600) + " + 2";
	case 4:
		return "UPDATE orders SET secret = md5(random()::text) WHERE id = " + id(600); // invisible: no history
	case 5:
		return "DELETE FROM accounts WHERE id = " + id(400);
	case 6:
		return "DELETE FROM orders WHERE id BETWEEN " + id(600) + " AND " + id(600) + " + 1";
	case 7:
		return "UPDATE accounts SET id = id + 400 WHERE id = " + id(400); // primary-key change
	default:
		return "UPDATE orders SET id = " + id(600) + " WHERE id = " + id(600); // primary-key change
	}
}

// Runs statements inside a savepoint; a conflict (duplicate key, deadlock) rolls back just it.
void
RunGuarded(Connection &db, const std::string &sql, Counters &counters)
{
	db.Exec("SAVEPOINT op");
	try {
		db.Exec(sql);
		db.Exec("RELEASE SAVEPOINT op");
	} catch (const SqlError &) {
		counters.conflicts++;
		db.Exec("ROLLBACK TO SAVEPOINT op");
	}
}

// One writer: random transactions until the deadline.
void
WriterLoop(int number, std::chrono::steady_clock::time_point deadline, Counters &counters)
{
	Connection db(ConninfoFor(kDatabase));
	db.Exec("SET lock_timeout = '2s'");
	db.Exec("SET deadlock_timeout = '50ms'");
	std::mt19937 rng(1000 + number);
	long transactions = 0;
	while (std::chrono::steady_clock::now() < deadline) {
		transactions++;
		db.Exec("BEGIN");
		try {
			if (number == 0 && transactions % 60 == 0) {
				RunGuarded(db, "SELECT store_reload('orders')", counters);
				counters.reloads++;
			} else if (number == 1 && transactions % 150 == 0) {
				RunGuarded(db, "TRUNCATE orders", counters);
				counters.truncates++;
			}
			int statements = std::uniform_int_distribution<int>(1, 6)(rng);
			for (int i = 0; i < statements; i++)
				RunGuarded(db, RandomStatement(rng), counters);
			if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
				db.Exec("SAVEPOINT undone");
				RunGuarded(db, RandomStatement(rng), counters);
				db.Exec("ROLLBACK TO SAVEPOINT undone");
				counters.savepoint_rollbacks++;
			}
			if (std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
				db.Exec("ROLLBACK");
				counters.rolled_back++;
			} else {
				db.Exec("COMMIT");
				counters.committed++;
			}
		} catch (const SqlError &) {
			db.Exec("ROLLBACK");
			counters.rolled_back++;
		}
	}
}

// A writer thread: a failure is counted (and fails the run), never thrown across the thread.
void
Writer(int number, std::chrono::steady_clock::time_point deadline, Counters &counters)
{
	try {
		WriterLoop(number, deadline, counters);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "writer %d: %s\n", number, e.what());
		counters.failed_writers++;
	}
}

// The id of a document (every registered column set includes the key column "id").
std::string
IdOf(const json &doc)
{
	return doc.at("id").dump();
}

// Fills copy with the keys of a snapshot document.
void
LoadSnapshot(const json &snapshot, Copy &copy)
{
	for (const std::string &key : kKeys) {
		copy[key].clear();
		for (const json &doc : snapshot.at(key))
			copy[key][IdOf(doc)] = doc;
	}
}

// Applies a store_changes delta to copy.
void
ApplyChanges(const json &delta, Copy &copy)
{
	for (const auto &[key, change] : delta.at("changes").items()) {
		if (change.value("replaced", false))
			copy[key].clear();
		for (const json &doc : change.at("upserted"))
			copy[key][IdOf(doc)] = doc;
		for (const json &id : change.at("deleted"))
			copy[key].erase(id.dump());
	}
}

// The follower on store_changes: after every delta its copy equals a snapshot of the same moment.
struct ChangesFollower {
	Connection db{ConninfoFor(kDatabase)};
	Copy copy;
	std::string version;
	long polls = 0, pages = 0, mismatches = 0, reloads = 0;
	static constexpr int kPageSize = 50; // small, so that catching up takes several pages

	void
	Start()
	{
		json snapshot = json::parse(db.Scalar("SELECT store_snapshot()"));
		LoadSnapshot(snapshot, copy);
		version = snapshot.at("version");
	}

	// Applies one delta (a page of at most kPageSize history rows); true when more pages follow.
	bool
	ApplyPage(Copy &copy_at_snapshot)
	{
		json delta = json::parse(db.Scalar("SELECT store_changes($1, $2)", {version, std::to_string(kPageSize)}));
		if (delta.at("reload")) {
			reloads++;
			copy = copy_at_snapshot;
		} else {
			ApplyChanges(delta, copy);
		}
		version = delta.at("version");
		return delta.value("more", false);
	}

	// Follows in small pages (calling again while "more"), all in the snapshot it compares with.
	void
	Poll()
	{
		db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
		json snapshot = json::parse(db.Scalar("SELECT store_snapshot()"));
		Copy expected;
		LoadSnapshot(snapshot, expected);
		while (ApplyPage(expected))
			pages++;
		db.Exec("COMMIT");
		polls++;
		if (expected != copy || snapshot.at("version") != version) {
			mismatches++;
			copy = expected;
		}
	}
};

// The follower on store_history, woken by NOTIFY; records every row it receives.
struct HistoryFollower {
	Connection db{ConninfoFor(kDatabase)};
	Connection listener{ConninfoFor(kDatabase)};
	Copy copy;
	std::string start_version, version;
	std::map<std::string, long> received; // "key|item|state" -> count
	long polls = 0, rows = 0, notifications = 0, held_back = 0;

	void
	Start()
	{
		listener.Exec("LISTEN store");
		json snapshot = json::parse(db.Scalar("SELECT store_snapshot()"));
		LoadSnapshot(snapshot, copy);
		start_version = version = snapshot.at("version");
	}

	// Brings the given items of key up to date with one store_get call each, in one statement.
	void
	Refresh(const std::string &key, const std::vector<std::string> &items)
	{
		std::string list = "{";
		for (std::size_t i = 0; i < items.size(); i++)
			list += (i ? "," : "") + items[i];
		list += "}";
		Rows docs = db.Exec("SELECT i, store_get($1, i) FROM unnest($2::text[]) AS i", {key, list});
		for (const Row &row : docs) {
			const std::string &id = *row[0]; // both keys have integer ids: the JSON text is the item id
			if (!row[1])
				copy[key].erase(id);
			else
				copy[key][id] = json::parse(*row[1]);
		}
	}

	void
	Poll(std::chrono::milliseconds wait)
	{
		std::vector<Notification> woken = listener.WaitForNotifications(wait);
		notifications += (long)woken.size();
		Rows batch = db.Exec("SELECT version, cache_key, item_id, state FROM store_history($1)", {version});
		polls++;
		std::map<std::string, std::vector<std::string>> touched;
		bool whole = false;
		for (const Row &row : batch) {
			version = *row[0];
			rows++;
			received[row[1].value_or("") + "|" + row[2].value_or("") + "|" + *row[3]]++;
			if (row[2])
				touched[*row[1]].push_back(*row[2]);
			else
				whole = true; // F, or a key registered, reloaded, truncated or removed
		}
		if (whole)
			LoadSnapshot(json::parse(db.Scalar("SELECT store_snapshot()")), copy);
		else
			for (const auto &[key, items] : touched)
				Refresh(key, items);
		if (!woken.empty())
			CheckNotHeldBack(json::parse(woken.back().payload).at("version"));
	}

	// Everything the newest notification announced must be behind the follower's version now.
	void
	CheckNotHeldBack(const std::string &announced)
	{
		std::string missing = db.Scalar(
		    "SELECT count(*) FROM store.history AS h "
		    "WHERE pg_visible_in_snapshot(h.xid, (split_part($1, ':', 2) || ':' || split_part($1, ':', 3) || ':' || "
		    "split_part($1, ':', 4))::pg_snapshot) "
		    "AND NOT pg_visible_in_snapshot(h.xid, (split_part($2, ':', 2) || ':' || split_part($2, ':', 3) || ':' "
		    "|| split_part($2, ':', 4))::pg_snapshot)",
		    {announced, version});
		held_back += std::stol(missing);
	}
};

// The history rows committed after version, by PostgreSQL's own visibility test.
std::map<std::string, long>
ExpectedHistory(Connection &db, const std::string &version)
{
	std::map<std::string, long> expected;
	Rows rows = db.Exec("SELECT coalesce(cache_key, ''), coalesce(item #>> '{}', ''), state FROM store.history AS h "
	                    "WHERE NOT pg_visible_in_snapshot(h.xid, (split_part($1, ':', 2) || ':' || "
	                    "split_part($1, ':', 3) || ':' || split_part($1, ':', 4))::pg_snapshot)",
	                    {version});
	for (const Row &row : rows)
		expected[*row[0] + "|" + *row[1] + "|" + *row[2]]++;
	return expected;
}

// The tables serialized directly, as the store should hold them.
Copy
TablesNow(Connection &db)
{
	json direct =
	    json::parse(db.Scalar("SELECT json_build_object("
	                          "'accounts', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM accounts a), "
	                          "'orders', (SELECT coalesce(json_agg(o ORDER BY o.id), '[]') FROM "
	                          "(SELECT id, account, qty, note FROM orders) o))"));
	Copy copy;
	LoadSnapshot(direct, copy);
	for (auto &[key, docs] : copy)
		for (auto &[id, doc] : docs)
			doc = json::parse(db.Scalar("SELECT $1::jsonb::text", {doc.dump()})); // jsonb normal form
	return copy;
}

// Normalizes a follower's documents the same way (jsonb renders numbers as written).
Copy
Normalized(Connection &db, const Copy &copy)
{
	Copy out = copy;
	for (auto &[key, docs] : out)
		for (auto &[id, doc] : docs)
			doc = json::parse(db.Scalar("SELECT $1::jsonb::text", {doc.dump()}));
	return out;
}

} // namespace

int
main(int argc, char **argv)
{
	int writers = argc > 1 ? std::atoi(argv[1]) : 8;
	int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
	try {
		Setup();
		Connection bystander(ConninfoFor(kDatabase));
		bystander.Exec("BEGIN");
		bystander.Exec("SELECT pg_current_xact_id()"); // an unrelated transaction holding an xid

		HistoryFollower history;
		ChangesFollower changes;
		history.Start();
		changes.Start();

		Counters counters;
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
		std::vector<std::thread> threads;
		for (int i = 0; i < writers; i++)
			threads.emplace_back(Writer, i, deadline, std::ref(counters));
		while (std::chrono::steady_clock::now() < deadline) {
			history.Poll(std::chrono::milliseconds(200));
			changes.Poll();
		}
		for (std::thread &t : threads)
			t.join();
		bystander.Exec("COMMIT");
		history.Poll(std::chrono::milliseconds(200));
		changes.Poll();

		Connection check(ConninfoFor(kDatabase));
		Copy tables = TablesNow(check);
		Copy snapshot;
		LoadSnapshot(json::parse(check.Scalar("SELECT store_snapshot()")), snapshot);
		snapshot = Normalized(check, snapshot);
		bool history_copy_ok = Normalized(check, history.copy) == tables;
		bool changes_copy_ok = Normalized(check, changes.copy) == tables;
		bool snapshot_ok = snapshot == tables;
		auto expected = ExpectedHistory(check, history.start_version);
		long expected_rows = 0;
		for (const auto &[k, n] : expected)
			expected_rows += n;
		bool exactly_once = expected == history.received;

		std::printf("writers %d, %d s: %ld transactions committed, %ld rolled back, %ld savepoint rollbacks, "
		            "%ld statement conflicts, %ld reloads, %ld truncates\n",
		            writers, seconds, counters.committed.load(), counters.rolled_back.load(),
		            counters.savepoint_rollbacks.load(), counters.conflicts.load(), counters.reloads.load(),
		            counters.truncates.load());
		std::printf("history follower: %ld polls, %ld notifications, %ld rows received, %ld rows committed after "
		            "its start; exactly once: %s; held back after a notification: %ld\n",
		            history.polls, history.notifications, history.rows, expected_rows, exactly_once ? "yes" : "NO",
		            history.held_back);
		std::printf("changes follower: %ld polls (%ld more pages of %d), %ld reloads, %ld mismatches against a "
		            "same-snapshot read\n",
		            changes.polls, changes.pages, ChangesFollower::kPageSize, changes.reloads, changes.mismatches);
		std::printf("final: %zu accounts, %zu orders; history copy %s, changes copy %s, store_snapshot() %s the "
		            "tables\n",
		            tables["accounts"].size(), tables["orders"].size(), history_copy_ok ? "equals" : "DIFFERS FROM",
		            changes_copy_ok ? "equals" : "DIFFERS FROM", snapshot_ok ? "equals" : "DIFFERS FROM");
		bool ok = history_copy_ok && changes_copy_ok && snapshot_ok && exactly_once && history.held_back == 0 &&
		          changes.mismatches == 0 && counters.committed > 0 && counters.failed_writers == 0;
		std::printf("stress: %s\n", ok ? "PASS" : "FAIL");
		return ok ? 0 : 1;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "stress: error: %s\n", e.what());
		return 2;
	}
}
