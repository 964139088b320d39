// Commit-to-NOTIFY latency: a writer runs single-row INSERT transactions on a table, one at a
// time; a listener on the channel times each notification from the moment the writer sent its
// statement. Prints "p50 / p99" in milliseconds.
// Usage: store_notify_latency SAMPLES TABLE CHANNEL   (connection from the PG* environment)
#include "pg_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace store::test;
using Clock = std::chrono::steady_clock;

int
main(int argc, char **argv)
{
	if (argc != 4) {
		std::fprintf(stderr, "usage: store_notify_latency SAMPLES TABLE CHANNEL\n");
		return 2;
	}
	int samples = std::atoi(argv[1]);
	std::string table = argv[2], channel = argv[3];
	try {
		Connection writer, listener;
		listener.Exec("LISTEN " + channel);
		std::vector<double> latencies;
		for (int i = 0; i < samples; i++) {
			auto sent = Clock::now();
			writer.Exec("INSERT INTO " + table + " VALUES (" + std::to_string(10000000 + i) +
			            ", 'n', 1, 1, '{}', true, now())");
			std::vector<Notification> got = listener.WaitForFirstNotification(std::chrono::milliseconds(5000));
			if (got.empty()) {
				std::fprintf(stderr, "no notification for sample %d\n", i);
				return 1;
			}
			latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
		}
		std::sort(latencies.begin(), latencies.end());
		auto at = [&](double p) { return latencies[std::min(latencies.size() - 1, size_t(p * latencies.size()))]; };
		std::printf("%.2f / %.2f\n", at(0.50), at(0.99));
		return 0;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "store_notify_latency: %s\n", e.what());
		return 2;
	}
}
