// The C++/PostgreSQL firewall: converting errors in both directions.
#include "pg/guard.hpp"
#include "core/error.hpp"

#include <cstring>
#include <exception>
#include <new>

namespace store::pg {

namespace {

// The error caught last, kept in static storage: raising it must not need C++ objects.
struct StoredError {
	ErrorData *pg_error;
	char sqlstate[6];
	char message[1024];
	char hint[512];
};
StoredError stored_error;

// Copies text into a fixed buffer, truncating; never allocates.
void
CopyText(char *dst, std::size_t size, const char *src)
{
	std::strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

// Sets the stored error from a SQLSTATE, a message and a hint.
void
SetStored(const char *sqlstate, const char *message, const char *hint)
{
	stored_error.pg_error = nullptr;
	CopyText(stored_error.sqlstate, sizeof stored_error.sqlstate, sqlstate);
	CopyText(stored_error.message, sizeof stored_error.message, message);
	CopyText(stored_error.hint, sizeof stored_error.hint, hint);
}

} // namespace

void
PgCallRaw(void (*fn)(void *), void *arg)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ErrorData *volatile error = nullptr;
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_context);
		error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (error != nullptr)
		throw PgError{error};
}

void
StoreCurrentException(const char *function_name) noexcept
{
	try {
		throw;
	} catch (const PgError &e) {
		stored_error.pg_error = e.data;
	} catch (const core::Error &e) {
		SetStored(e.sqlstate().c_str(), e.what(), e.hint().c_str());
	} catch (const std::bad_alloc &) {
		SetStored("53200", "out of memory", "");
	} catch (const std::exception &e) {
		char message[1024];
		snprintf(message, sizeof message, "%s: internal error: %s", function_name, e.what());
		SetStored("XX000", message, "");
	} catch (...) {
		char message[1024];
		snprintf(message, sizeof message, "%s: internal error: unknown C++ exception", function_name);
		SetStored("XX000", message, "");
	}
}

void
RaiseStoredError()
{
	if (stored_error.pg_error != nullptr) {
		ErrorData *error = stored_error.pg_error;
		stored_error.pg_error = nullptr;
		ReThrowError(error);
	}
	const char *s = stored_error.sqlstate;
	ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])), errmsg_internal("%s", stored_error.message),
	                stored_error.hint[0] ? errhint("%s", stored_error.hint) : 0));
	pg_unreachable();
}

} // namespace store::pg
