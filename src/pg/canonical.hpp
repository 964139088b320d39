// Canonical rendering: documents and ids have one text per value, whoever writes or reads them.
// PostgreSQL renders some types after the session's settings (a timestamptz in its TimeZone, a
// float after extra_float_digits, ranges after DateStyle, intervals after IntervalStyle, bytea
// after bytea_output); the store renders under fixed ones, as pg_dump does. Ids must also be
// injective: two different keys never print alike, so only key types whose rendering is
// canonical are accepted.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Switches the output settings that differ from the canonical ones (TimeZone UTC, DateStyle ISO,
// IntervalStyle postgres, extra_float_digits 1, bytea_output hex) for the current (sub)transaction
// level; returns what LeaveCanonicalOutput needs. An error in between is undone by the abort.
int EnterCanonicalOutput();

// Restores the settings EnterCanonicalOutput changed.
void LeaveCanonicalOutput(int nest_level);

// True when values of type (a domain: its base type) render canonically and injectively as ids.
bool IsCanonicalKeyType(Oid type);

// Errors (0A000) unless the primary-key column attnum of relid has a canonical key type.
void RequireCanonicalKeyType(Oid relid, AttrNumber attnum);

} // namespace store::pg
