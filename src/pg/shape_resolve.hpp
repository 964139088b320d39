// Resolving a document shape for a root table against this database's catalog, and the internal
// SQL functions that show the result: store._explain_shape (the resolved tree, one row per object)
// and store._shape_query (the SQL rendering a root row's document).
#pragma once

#include "pg/postgres_headers.hpp"
#include "core/shape_resolve.hpp"

#include <string_view>

namespace store::pg {

// Parses shape_text and resolves it for the table root (core::ResolveShape over PgCatalog).
// C++ in, C++ out: call it where C++ objects may live (errors come as exceptions, PostgreSQL's as
// PgError). Reads only the catalog and checks no privilege: registration checks who may read.
core::ResolvedShape ResolveShapeFor(Oid root, std::string_view shape_text);

} // namespace store::pg
