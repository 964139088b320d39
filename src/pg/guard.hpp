// The C++/PostgreSQL firewall.
//
// CallGuarded runs a C++ body for a function PostgreSQL called; any C++ exception is caught,
// copied into static storage, and raised as ereport(ERROR) only after the C++ stack has unwound.
// PgCall runs PostgreSQL code from C++ frames that hold objects with destructors: a PostgreSQL
// error there becomes a C++ exception (PgError), so no longjmp skips a destructor.
//
// Rule for glue code: a frame that calls PostgreSQL directly holds only trivially destructible
// locals (PostgreSQL's longjmp may cross it); C++ containers live in the core, behind PgCall.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// A PostgreSQL error caught by PgCall, carried through C++ frames and re-thrown at the boundary.
struct PgError {
	ErrorData *data;
};

// Runs fn(arg) inside PG_TRY; a PostgreSQL error is turned into a thrown PgError.
void PgCallRaw(void (*fn)(void *), void *arg);

// Runs a callable that calls PostgreSQL, turning its errors into PgError.
template <typename F>
void
PgCall(F &&f)
{
	PgCallRaw([](void *p) { (*static_cast<F *>(p))(); }, &f);
}

// Stores the exception in flight for RaiseStoredError; called only inside a catch block.
void StoreCurrentException(const char *function_name) noexcept;

// Raises the stored error as ereport(ERROR) (or re-throws the PostgreSQL error); never returns.
[[noreturn]] void RaiseStoredError();

// Runs body (returning Datum or void) as the C++ side of a PostgreSQL entry point.
template <typename Body>
auto
CallGuarded(const char *function_name, Body &&body) -> decltype(body())
{
	try {
		return body();
	} catch (...) {
		StoreCurrentException(function_name);
	}
	RaiseStoredError();
}

} // namespace store::pg

// Declares the extern "C" entry point name, running body(fcinfo) behind the firewall.
#define STORE_ENTRY(name, body)                                                                                        \
	extern "C" {                                                                                                       \
	PG_FUNCTION_INFO_V1(name);                                                                                         \
	Datum                                                                                                              \
	name(PG_FUNCTION_ARGS)                                                                                             \
	{                                                                                                                  \
		return store::pg::CallGuarded(#name, [&] { return body(fcinfo); });                                            \
	}                                                                                                                  \
	}
