// DROP DATABASE right after a database's first commit, for the notifier tests: each cycle creates
// a database from TEMPLATE, commits one row into its table "probe" (which starts the database's
// notifier), disconnects and at once drops the database over a connection that is already open, so
// the notifier is still starting. Every EVERY-th cycle is run by ROLE (its owner, not a superuser;
// a login role whose password is its name) with DROP DATABASE ... WITH (FORCE). A refused drop is
// reported, then forced through.
// Usage: store_drop_race CYCLES TEMPLATE ROLE EVERY   (connection from the PG* environment; the
// database of PGDATABASE must not be the template)
// Prints "cycles C refused R"; exits 1 when a drop was refused.
#include "pg_client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace store::test;

int
main(int argc, char **argv)
{
	if (argc != 5) {
		std::fprintf(stderr, "usage: store_drop_race CYCLES TEMPLATE ROLE EVERY\n");
		return 2;
	}
	int cycles = std::atoi(argv[1]), every = std::atoi(argv[4]);
	std::string tpl = argv[2], role = argv[3], name = "store_drop_race";
	try {
		Connection admin;
		admin.Exec("SET client_min_messages = warning");
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
		int refused = 0;
		for (int cycle = 1; cycle <= cycles; cycle++) {
			bool by_owner = every > 0 && cycle % every == 0;
			admin.Exec(by_owner ? "SET ROLE " + role : "RESET ROLE");
			admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + tpl);
			{
				Connection writer(ConninfoFor(name) + (by_owner ? " user=" + role + " password=" + role : ""));
				writer.Exec("INSERT INTO probe DEFAULT VALUES");
			}
			std::string drop = "DROP DATABASE " + name + (by_owner ? " WITH (FORCE)" : "");
			try {
				admin.Exec(drop);
				continue;
			} catch (const SqlError &e) {
				refused++;
				std::fprintf(stderr, "cycle %d: %s: refused (%s): %s", cycle, drop.c_str(), e.sqlstate().c_str(),
				             e.what());
			}
			admin.Exec("RESET ROLE");
			for (int attempt = 0;; attempt++) {
				try {
					admin.Exec("DROP DATABASE " + name + " WITH (FORCE)");
					break;
				} catch (const SqlError &) {
					if (attempt == 30)
						throw;
					std::this_thread::sleep_for(std::chrono::seconds(1));
				}
			}
		}
		std::printf("cycles %d refused %d\n", cycles, refused);
		return refused == 0 ? 0 : 1;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "store_drop_race: %s\n", e.what());
		return 2;
	}
}
