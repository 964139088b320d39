// Notification coverage probe for the notifier tests: is every commit announced, eventually?
// WRITERS connections each commit one row into table "probe" (a registered store table) at the
// same moment (a burst); then COMMAND, if given, runs (sh -c); then a listener waits until, for
// each transaction of the burst, it has received a notification whose version sees that
// transaction: the burst is announced. No timing is measured; a burst not announced within
// STORE_PROBE_WAIT seconds (default 20) fails the probe.
// Usage: store_notify_probe WRITERS BURSTS [COMMAND]   (connection from the PG* environment)
// STORE_PROBE_SETUP, if set, is a command run once every connection is made, before the first burst.
// Prints "bursts B commits C notifications N from_notifier M" (M: payloads with "keys":null, sent
// by the notifier rather than by a writer).
#include "pg_client.hpp"
#include "core/cursor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace store::test;

namespace {

// The "version" of a payload, empty when there is none.
std::string
VersionOf(const std::string &payload)
{
	const std::string marker = "\"version\":\"";
	std::size_t start = payload.find(marker);
	if (start == std::string::npos)
		return "";
	start += marker.size();
	std::size_t end = payload.find('"', start);
	return end == std::string::npos ? "" : payload.substr(start, end - start);
}

// One writer connection sending its statement without waiting, so a burst's commits overlap.
class Writer {
public:
	Writer() : conn_(PQconnectdb(""))
	{
		if (PQstatus(conn_) != CONNECTION_OK)
			throw std::runtime_error(std::string("writer connection failed: ") + PQerrorMessage(conn_));
	}
	~Writer() { PQfinish(conn_); }
	void
	Send()
	{
		if (!PQsendQuery(conn_, "INSERT INTO probe DEFAULT VALUES RETURNING pg_current_xact_id()::text"))
			throw std::runtime_error(std::string("send failed: ") + PQerrorMessage(conn_));
	}
	// Waits for the commit; returns its transaction id.
	std::uint64_t
	Finish()
	{
		std::uint64_t xid = 0;
		while (PGresult *result = PQgetResult(conn_)) {
			bool ok = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
			if (ok)
				xid = std::stoull(PQgetvalue(result, 0, 0));
			PQclear(result);
			if (!ok)
				throw std::runtime_error(std::string("insert failed: ") + PQerrorMessage(conn_));
		}
		return xid;
	}

private:
	PGconn *conn_;
};

} // namespace

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		std::fprintf(stderr, "usage: store_notify_probe WRITERS BURSTS [COMMAND]\n");
		return 2;
	}
	int writers = std::atoi(argv[1]), bursts = std::atoi(argv[2]);
	const char *command = argc == 4 ? argv[3] : nullptr;
	const char *wait_env = std::getenv("STORE_PROBE_WAIT");
	auto wait = std::chrono::seconds(wait_env ? std::atoi(wait_env) : 20);
	try {
		Connection listener;
		listener.Exec("LISTEN store");
		std::vector<std::unique_ptr<Writer>> pool;
		for (int i = 0; i < writers; i++)
			pool.push_back(std::make_unique<Writer>());
		const char *setup = std::getenv("STORE_PROBE_SETUP");
		if (setup != nullptr && std::system(setup) != 0) {
			std::fprintf(stderr, "store_notify_probe: setup command failed: %s\n", setup);
			return 2;
		}
		int notifications = 0, from_notifier = 0;
		for (int burst = 1; burst <= bursts; burst++) {
			for (auto &w : pool)
				w->Send();
			std::vector<std::uint64_t> unseen; // the burst's transactions no notification has seen yet
			for (auto &w : pool)
				unseen.push_back(w->Finish());
			if (command != nullptr && std::system(command) != 0) {
				std::fprintf(stderr, "store_notify_probe: command failed: %s\n", command);
				return 2;
			}
			auto deadline = std::chrono::steady_clock::now() + wait;
			std::string last = "(none)";
			while (!unseen.empty() && std::chrono::steady_clock::now() < deadline) {
				auto left =
				    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
				for (const Notification &n : listener.WaitForFirstNotification(left)) {
					notifications++;
					if (n.payload.find("\"keys\":null") != std::string::npos)
						from_notifier++;
					std::string version = VersionOf(n.payload);
					if (version.empty())
						continue;
					last = version;
					store::core::Cursor seen = store::core::ParseCursor(version);
					unseen.erase(std::remove_if(unseen.begin(), unseen.end(),
					                            [&](std::uint64_t xid) { return store::core::IsVisible(seen, xid); }),
					             unseen.end());
				}
			}
			if (!unseen.empty()) {
				std::fprintf(stderr,
				             "store_notify_probe: burst %d of %d: transaction %llu was not announced within %lld s "
				             "(last version received: %s)\n",
				             burst, bursts, (unsigned long long)unseen.front(), (long long)wait.count(), last.c_str());
				return 1;
			}
		}
		std::printf("bursts %d commits %d notifications %d from_notifier %d\n", bursts, bursts * writers, notifications,
		            from_notifier);
		return 0;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "store_notify_probe: %s\n", e.what());
		return 2;
	}
}
