// Reading the arguments of SQL-callable functions: what several entry points share.
#pragma once

#include "pg/postgres_headers.hpp"

#include <string_view>

namespace store::pg {

// The text argument n as a string_view over its (detoasted) bytes; NULL is refused by name.
inline std::string_view
TextArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
	text *arg = PG_GETARG_TEXT_PP(n);
	return {VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)};
}

} // namespace store::pg
