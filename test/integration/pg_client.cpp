// The integration tests' libpq client.
#include "pg_client.hpp"

#include <poll.h>

namespace store::test {

Connection::Connection(const std::string &conninfo) : conn_(PQconnectdb(conninfo.c_str()))
{
	if (PQstatus(conn_) != CONNECTION_OK) {
		std::string message = PQerrorMessage(conn_);
		PQfinish(conn_);
		throw std::runtime_error("connection failed: " + message);
	}
	PQsetNoticeProcessor(
	    conn_, [](void *, const char *) {}, nullptr);
}

Connection::~Connection()
{
	PQfinish(conn_);
}

Rows
Connection::Exec(const std::string &sql, const std::vector<Value> &params)
{
	std::vector<const char *> values;
	for (const Value &p : params)
		values.push_back(p ? p->c_str() : nullptr);
	PGresult *result =
	    PQexecParams(conn_, sql.c_str(), (int)values.size(), nullptr, values.data(), nullptr, nullptr, 0);
	ExecStatusType status = PQresultStatus(result);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
		SqlError error(PQerrorMessage(conn_), state ? state : "");
		PQclear(result);
		throw error;
	}
	Rows rows;
	for (int r = 0; r < PQntuples(result); r++) {
		Row row;
		for (int c = 0; c < PQnfields(result); c++)
			row.push_back(PQgetisnull(result, r, c) ? Value() : Value(PQgetvalue(result, r, c)));
		rows.push_back(std::move(row));
	}
	PQclear(result);
	return rows;
}

std::string
Connection::Scalar(const std::string &sql, const std::vector<Value> &params)
{
	Rows rows = Exec(sql, params);
	if (rows.empty() || rows[0].empty() || !rows[0][0])
		throw std::runtime_error("no value from: " + sql);
	return *rows[0][0];
}

std::vector<Notification>
Connection::Drain()
{
	std::vector<Notification> received;
	PQconsumeInput(conn_);
	while (PGnotify *n = PQnotifies(conn_)) {
		received.push_back({n->relname, n->extra, n->be_pid});
		PQfreemem(n);
	}
	return received;
}

std::vector<Notification>
Connection::WaitForNotifications(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	std::vector<Notification> received = Drain();
	while (std::chrono::steady_clock::now() < deadline) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
		// once something arrived, wait only briefly for more
		int wait = received.empty() ? (int)left.count() : std::min<int>(100, (int)left.count());
		pollfd fd{PQsocket(conn_), POLLIN, 0};
		if (poll(&fd, 1, wait) <= 0) {
			if (!received.empty())
				break;
			continue;
		}
		for (Notification &n : Drain())
			received.push_back(std::move(n));
	}
	return received;
}

std::vector<Notification>
Connection::WaitForFirstNotification(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	std::vector<Notification> received = Drain();
	while (received.empty() && std::chrono::steady_clock::now() < deadline) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
		pollfd fd{PQsocket(conn_), POLLIN, 0};
		if (poll(&fd, 1, (int)left.count()) > 0)
			received = Drain();
	}
	return received;
}

std::string
ConninfoFor(const std::string &dbname)
{
	return "dbname=" + dbname;
}

} // namespace store::test

namespace store::test {

void
RecreateStoreDatabase(const std::string &dbname)
{
	Connection admin;
	admin.Exec("SET client_min_messages = warning");
	admin.Exec("DROP DATABASE IF EXISTS " + dbname);
	admin.Exec("CREATE DATABASE " + dbname);
	Connection db(ConninfoFor(dbname));
	db.Exec("CREATE EXTENSION store");
}

} // namespace store::test
