// Canonical rendering: see canonical.hpp.
#include "pg/canonical.hpp"

extern "C" {
#include "pgtime.h"
#include "utils/bytea.h"
#include "utils/float.h"
}

namespace store::pg {

namespace {

// True when the session's time zone renders like UTC: a fixed offset of zero ('UTC', 'Etc/UTC',
// 'GMT', ...), so switching would change nothing. Remembered per zone (zones live as long as the
// backend), so a write costs a pointer comparison.
bool
SessionZoneIsUtc()
{
	static const pg_tz *known_zone = nullptr;
	static bool known_is_utc = false;
	if (session_timezone != known_zone) {
		long offset = 0;
		known_is_utc = session_timezone != nullptr && pg_get_timezone_offset(session_timezone, &offset) && offset == 0;
		known_zone = session_timezone;
	}
	return known_is_utc;
}

// Sets one setting for the current GUC nest level, as a function's SET clause does.
void
SetForRendering(const char *name, const char *value)
{
	(void)set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
	                        false);
}

// Opens a GUC nest level on first use (nest_level < 0: none yet).
void
OpenNestLevel(int *nest_level)
{
	if (*nest_level < 0)
		*nest_level = NewGUCNestLevel();
}

} // namespace

int
EnterCanonicalOutput()
{
	int nest_level = -1;
	if (!SessionZoneIsUtc()) {
		OpenNestLevel(&nest_level);
		SetForRendering("TimeZone", "UTC");
	}
	if (DateStyle != USE_ISO_DATES) {
		OpenNestLevel(&nest_level);
		SetForRendering("DateStyle", "ISO");
	}
	if (IntervalStyle != INTSTYLE_POSTGRES) {
		OpenNestLevel(&nest_level);
		SetForRendering("IntervalStyle", "postgres");
	}
	if (extra_float_digits <= 0) { // every positive value gives the shortest exact form
		OpenNestLevel(&nest_level);
		SetForRendering("extra_float_digits", "1");
	}
	if (bytea_output != BYTEA_OUTPUT_HEX) {
		OpenNestLevel(&nest_level);
		SetForRendering("bytea_output", "hex");
	}
	return nest_level;
}

void
LeaveCanonicalOutput(int nest_level)
{
	if (nest_level >= 0)
		AtEOXact_GUC(true, nest_level);
}

bool
IsCanonicalKeyType(Oid type)
{
	switch (getBaseType(type)) {
	case INT2OID:
	case INT4OID:
	case INT8OID:
	case NUMERICOID:
	case FLOAT4OID:
	case FLOAT8OID:
	case TEXTOID:
	case VARCHAROID:
	case BPCHAROID:
	case UUIDOID:
	case BOOLOID:
	case DATEOID:
	case TIMESTAMPOID:
	case TIMESTAMPTZOID:
		return true;
	default:
		return false;
	}
}

void
RequireCanonicalKeyType(Oid relid, AttrNumber attnum)
{
	Oid type = get_atttype(relid, attnum);
	if (IsCanonicalKeyType(type))
		return;
	ereport(ERROR,
	        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
	         errmsg("the primary key of table \"%s\" has type %s, which the store cannot use as a document id",
	                get_rel_name(relid), format_type_be(type)),
	         errdetail("An id must print the same way in every session and never like another key's id."),
	         errhint("Use a primary key of type smallint, integer, bigint, numeric, real, double precision, text, "
	                 "varchar, char, uuid, boolean, date, timestamp or timestamptz (or a domain over one).")));
}

} // namespace store::pg
