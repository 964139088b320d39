// store core: from changed rows back to the documents they are in.
//
// For each place a table occurs in a resolved shape (the root, each embedded object, and the
// junction of each many-to-many object; a table may occur several times), one SQL statement maps
// a set of changed rows of that table to the DISTINCT ids of the root rows whose documents show
// them. A changed row is given by the values of the few columns that join it to its parent object
// (its "up" edge), not the whole row: what else it shows or embeds changes only the documents that
// reach it through that edge.
//
// Statement shape: "SELECT DISTINCT <id> AS id FROM ROWS FROM (pg_catalog.unnest($1), ...,
// pg_catalog.unnest($n)) AS "c"(v1, ..., vn), <tables up the path> WHERE <the edges' conditions>"
// (one column: "pg_catalog.unnest($1) AS "c"(v1)"), where $i is an array of the values of
// columns[i] (of that column's type: the caller types the parameters, e.g. SPI argtypes or
// EXECUTE ... USING typed arrays), one element per changed row, the arrays zipped row by row
// (so a composite foreign key matches as a whole, never by a cross product); NULL elements are
// allowed (they match nothing). Per-column arrays rather than one array of a row type: a row type
// would need a named composite type per occurrence, while column arrays bind from the trigger's
// datums directly and unnest zips them in one function scan.
//
// The id is rendered as the store renders it (store._id_expression, pg/doc_shape.cpp): to_jsonb
// of the single key column, or jsonb_build_array of the key columns in key order.
//
// Paths back to the root, per notes section 4:
// - the root: its primary-key values are the ids (no table read);
// - an object whose table holds the foreign key to its parent: the parent's key columns are
//   matched by the foreign-key values; when the parent is the root and those are exactly the
//   root's primary key, the ids come from the foreign-key values themselves (no join; see
//   "exact ids" below);
// - a to-one object its parent holds the foreign key to: the parents holding these values;
// - a many-to-many object (the far table): through the junction rows pointing at it;
// - a junction's rows: their foreign key to the parent side;
// - deeper objects: joined up the path, parent by parent, to the root.
// Exact ids: taking the id from a foreign key's values instead of the root row is done only when
// the foreign key is held by the changed side (so the root row exists while the constraint holds)
// and each column pair has one type among those whose equality means identical JSON (integers,
// uuid, date, timestamps, bool, oid): numeric 5.0 = 5.00 and char(n) padding, or a text
// collation that is not deterministic, would render another id than the root's own column.
// A deleted root: lookups that join up to it no longer find it, but the root's own occurrence
// names it (its key values), which is what a cascaded delete needs.
#pragma once

#include "core/shape_resolve.hpp"

#include <string>
#include <vector>

namespace store::core {

// One occurrence of a table in a resolved shape and the statement mapping its changed rows to
// root ids.
struct ReverseLookup {
	std::string path;                       // the object's path ("" for the root)
	CatalogOid table = 0;                   // the table whose changed rows it maps
	bool junction = false;                  // table is the junction of the many-to-many object at path
	std::vector<int> columns;               // attnums of table whose values $1..$n take, in this order
	std::vector<std::string> column_names;  // their names, as in the catalog
	std::vector<int> watched;               // attnums of table whose change can alter a document (shown,
	                                        // joined or ordered by; the root's key), sorted: an UPDATE
	                                        // changing none of them needs no record (a root's filter
	                                        // columns are the glue's to add)
	std::vector<std::string> watched_names; // their names
	std::string sql;                        // SELECT DISTINCT <id> AS id FROM ... (type jsonb)
	bool reads_tables = false;              // false: the ids come from the values alone
};

// Every occurrence of a table in shape, in document order (the root first, then depth first; a
// many-to-many object's junction right after the object), with its lookup. catalog gives the
// root's primary key and the columns' types; 55000 when the root has no primary key.
std::vector<ReverseLookup> ReverseLookups(const ResolvedShape &shape, Catalog &catalog);

} // namespace store::core
