// A small libpq client for the integration and stress tests: connections, queries with text
// parameters, LISTEN and notification waits. Errors become exceptions carrying the SQLSTATE.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace store::test {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;
using Rows = std::vector<Row>;

// A failed statement: the server's message and SQLSTATE.
class SqlError : public std::runtime_error {
public:
	SqlError(const std::string &message, std::string sqlstate)
	    : std::runtime_error(message), sqlstate_(std::move(sqlstate))
	{
	}
	const std::string &
	sqlstate() const
	{
		return sqlstate_;
	}

private:
	std::string sqlstate_;
};

struct Notification {
	std::string channel;
	std::string payload;
	int sender_pid;
};

class Connection {
public:
	// Connects with conninfo; empty means libpq's environment (PGHOST, PGPORT, PGDATABASE, ...).
	explicit Connection(const std::string &conninfo = "");
	~Connection();
	Connection(const Connection &) = delete;
	Connection &operator=(const Connection &) = delete;

	// Runs one statement with text parameters; returns its rows (empty for commands).
	Rows Exec(const std::string &sql, const std::vector<Value> &params = {});
	// The first column of the first row; throws when there is none or it is NULL.
	std::string Scalar(const std::string &sql, const std::vector<Value> &params = {});
	// Notifications received within timeout (returns early once one arrived and the line is quiet).
	std::vector<Notification> WaitForNotifications(std::chrono::milliseconds timeout);
	// The notifications at hand as soon as at least one arrived (none after timeout).
	std::vector<Notification> WaitForFirstNotification(std::chrono::milliseconds timeout);
	int
	BackendPid() const
	{
		return PQbackendPID(conn_);
	}

private:
	PGconn *conn_;
	std::vector<Notification> Drain();
};

// conninfo for database dbname, everything else from the environment.
std::string ConninfoFor(const std::string &dbname);

// Drops and creates database dbname (through the environment's database), with the store
// extension installed in it.
void RecreateStoreDatabase(const std::string &dbname);

} // namespace store::test
