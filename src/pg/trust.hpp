// Whose code renders a document. to_json runs the output functions of the stored columns' types
// (for a base type that is not built in: C code only a superuser can install) and, for a type
// that is not built in, its cast to json: a function any owner of the type may write. The store
// renders as the table's owner, so such a cast would run with the owner's rights. It is accepted
// only when its function's owner already has every privilege of the table's owner (the owner
// itself, a superuser, ...): rendering never lends anyone rights they do not have.
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Errors (42501) when rendering column attnum of relid (owned by table_owner) could run a cast
// to json whose function belongs to a role without table_owner's privileges.
void RequireTrustedRendering(Oid relid, Oid table_owner, AttrNumber attnum);

// The same for every chosen column (attnums; count 0 means every live column) and the primary
// key's columns (each must also have a canonical key type): what registration and DDL check.
void RequireRenderableSource(Oid relid, const AttrNumber *attnums, int count);

} // namespace store::pg
