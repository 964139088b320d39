// store core: resolving a parsed shape (shape.hpp) against the catalog, and the SQL that renders
// one root row's document from the resolved tree.
//
// The catalog is read through the Catalog interface (the glue implements it with syscache lookups,
// src/pg/relationships.cpp; unit tests with a fake), as plain data: tables, their live columns,
// primary key, unique keys, index prefixes and foreign keys. The rules are PostgREST's:
// - the embedding (parent) table holds a foreign key to the embedded (child) table: many-to-one,
//   an object or null; one-to-one when those foreign-key columns are unique in the parent;
// - the child holds a foreign key to the parent: one-to-many, an array ([] when empty), ordered by
//   the child's primary key; one-to-one (an object or null) when those columns are unique;
// - a junction table J (neither side) holds foreign keys to both, and J's primary key contains
//   both foreign keys' columns: many-to-many, an array of the child's rows ordered by the child's
//   primary key, then J's.
// Only top-level foreign keys count (a partition's clones do not). An embedded table is looked up
// by name in the root table's schema; it is an ordinary or partitioned table, not a partition, and
// not a partition. A table embedded in itself follows PostgREST's rules for self-references: by its
// name, the rows whose self-referencing foreign key points to the parent row (one-to-many, or
// many-to-many through a junction holding two foreign keys to it); by the foreign key's one
// column (`manager:manager_id(...)`, where no table has that name), the row it points to
// (many-to-one). `!hint` keeps the candidates
// whose constraint name, or one of whose foreign-key columns (on the side holding it), is the hint;
// for many-to-many also the junction table's name. Two candidates left: 42P09 listing them as
// table!constraint; none: 42704 naming both tables (and the hint). `*` expands to the live columns
// in attribute order; a named column must exist (42703); keys are unique per object after the
// expansion (22023).
#pragma once

#include "core/shape.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace store::core {

using CatalogOid = std::uint32_t;

// A live column of a table.
struct CatalogColumn {
	int attnum = 0;
	std::string name;     // as in the catalog
	std::string sql_name; // quoted for SQL as PostgreSQL's quote_identifier does
	CatalogOid type = 0;  // its type (pg_type oid); 0: unknown
};

// A top-level foreign key: referencing_table(referencing) REFERENCES referenced_table(referenced).
struct CatalogForeignKey {
	CatalogOid oid = 0;
	std::string name;                   // the constraint's name
	CatalogOid referencing_table = 0;   // the table holding it
	CatalogOid referenced_table = 0;    // the table it points to
	std::vector<int> referencing;       // attnums in the referencing table, in constraint order
	std::vector<int> referenced;        // the matching attnums in the referenced table
	std::vector<std::string> operators; // per pair, "OPERATOR(schema.=)" comparing referenced = referencing
};

// What resolution needs to know of a table.
struct CatalogTable {
	CatalogOid oid = 0;
	std::string schema;                          // its schema's name
	std::string name;                            // its name
	std::string sql_schema;                      // the schema's name quoted for SQL (quote_identifier)
	std::string sql_relname;                     // its name quoted for SQL
	char kind = 'r';                             // pg_class.relkind: 'r' ordinary, 'p' partitioned, others refused
	bool is_partition = false;                   // a partition (of a partitioned table)
	char persistence = 'p';                      // pg_class.relpersistence: 'p' permanent, 'u' unlogged, 't' temporary
	std::vector<CatalogColumn> columns;          // live columns, in attribute order
	std::vector<int> primary_key;                // attnums in key order; empty: none
	std::vector<std::vector<int>> unique;        // key columns of each valid, non-partial unique index (PK included)
	std::vector<std::vector<int>> indexes;       // leading plain key columns of each valid, non-partial index
	std::vector<CatalogForeignKey> foreign_keys; // the foreign keys it holds
	std::vector<CatalogOid> referenced_by;       // the tables holding foreign keys to it (each once, by oid)

	// schema.name, quoted for SQL.
	std::string
	SqlName() const
	{
		return sql_schema + "." + sql_relname;
	}
	// How a query names its rows: ONLY the table (a legacy inheritance child's rows are not its own
	// for the store: no store trigger fires on the child), a partitioned table with its partitions.
	std::string
	RowsSql() const
	{
		return kind == 'p' ? SqlName() : "ONLY " + SqlName();
	}
	// The column with this attnum, or nullptr.
	const CatalogColumn *Column(int attnum) const;
	// The column with this name, or nullptr.
	const CatalogColumn *Column(const std::string &name) const;
};

// The catalog as resolution reads it. Implementations may throw (the glue turns PostgreSQL errors
// into exceptions); references stay valid for the Catalog's lifetime.
class Catalog {
public:
	virtual ~Catalog() = default;
	// The table with this oid (it exists: oids come from the catalog).
	virtual const CatalogTable &Table(CatalogOid oid) = 0;
	// The relation named name in schema (any kind), or nullptr when there is none.
	virtual const CatalogTable *FindTable(const std::string &schema, const std::string &name) = 0;
};

enum class EdgeKind {
	kRoot,       // the root table
	kManyToOne,  // the parent holds the foreign key: an object or null
	kOneToMany,  // the child holds the foreign key: an array
	kOneToOne,   // either holds it, on unique columns: an object or null
	kManyToMany, // through a junction table: an array of the child's rows
};

// The name explain shows for a kind: "root", "many-to-one", "one-to-many", "one-to-one",
// "many-to-many".
const char *EdgeKindName(EdgeKind kind);

// One key of a resolved object: a column of the node's table, or an embedded node.
struct ResolvedField {
	std::string key; // the key it renders under
	int attnum = 0;  // a column: its attnum; 0 for an embedding
	std::string sql; // a column: its quoted name
	int child = -1;  // an embedding: its index in the node's children
};

// A foreign key an edge joins through, with its columns' quoted names on both sides.
struct ResolvedJoin {
	CatalogForeignKey fk;
	std::vector<std::string> referencing_sql; // the holder's columns
	std::vector<std::string> referenced_sql;  // the target's columns
};

// One object of the document: a table reached from its parent through one relationship.
struct ResolvedNode {
	std::string path;       // the keys from the root, joined by '.' ("" for the root)
	CatalogOid table = 0;   // the table whose rows it shows
	CatalogOid parent = 0;  // the table of the object embedding it (0 for the root)
	std::string table_sql;  // its quoted, schema-qualified name
	std::string table_rows; // how a query names its rows (CatalogTable::RowsSql)
	EdgeKind kind = EdgeKind::kRoot;
	bool child_holds_key = false; // the child holds join.fk (one-to-many, or one-to-one from that side)
	ResolvedJoin join;            // the foreign key to or from the parent (many-to-many: the junction's to the parent)
	ResolvedJoin far_join;        // many-to-many: the junction's foreign key to the child
	CatalogOid junction = 0;      // many-to-many: the junction table
	std::string junction_sql;     // its quoted, schema-qualified name
	std::string junction_rows;    // how a query names its rows (CatalogTable::RowsSql)
	std::vector<std::string> order_sql;          // arrays: the child's primary-key columns (quoted)
	std::vector<std::string> junction_order_sql; // many-to-many: then the junction's primary-key columns
	bool index_ok = true;          // each foreign key of the edge has an index on its holder leading with its columns
	std::string join_text;         // the edge for a reader: holder(columns) -> target(columns)[, ...]
	std::vector<int> read_columns; // attnums of the table it reads: shown, joined and ordered by
	std::vector<int> junction_read_columns; // many-to-many: attnums of the junction it reads
	std::vector<ResolvedField> fields;      // the object's keys, in document order
	std::vector<ResolvedNode> children;     // the embedded objects, in the order their keys appear

	// True when it renders as an array (one-to-many, many-to-many).
	bool
	IsArray() const
	{
		return kind == EdgeKind::kOneToMany || kind == EdgeKind::kManyToMany;
	}
};

// A shape resolved for a root table.
struct ResolvedShape {
	ResolvedNode root;
};

// Resolves shape for the root table (an ordinary or partitioned table, not a partition); throws
// Error for anything the rules above refuse.
ResolvedShape ResolveShape(const Shape &shape, CatalogOid root, Catalog &catalog);

// Every node, root first, then each node's children in document order (depth first).
std::vector<const ResolvedNode *> ResolvedNodes(const ResolvedShape &shape);

// The SQL expression (type json) rendering the document of the root row named root_alias (a plain
// identifier of at most 40 bytes, quoted as given): nested pg_catalog.json_build_object /
// json_agg subqueries, keys in the shape's order, values as to_json renders them, arrays ordered
// by the child's primary key (COALESCE'd to '[]'), null for a missing to-one object. Everything is
// schema-qualified; join comparisons use the foreign keys' own equality operators.
std::string ShapeQuery(const ResolvedShape &shape, const std::string &root_alias);

// A rename that DDL made: a table's column, a table, or a foreign-key constraint, from old_name
// to new_name. The catalog already holds new_name.
struct CatalogRename {
	enum class Kind { kColumn, kTable, kConstraint };
	Kind kind = Kind::kColumn;
	CatalogOid table = 0;      // kColumn, kTable: the table
	int attnum = 0;            // kColumn: the column
	CatalogOid constraint = 0; // kConstraint: the foreign key
	std::string old_name;
	std::string new_name;
};

// The catalog as it was before rename (the renamed object under its old name), over the catalog
// as it is; resolving a shape written before the rename against it gives what it gave then.
class CatalogBeforeRename : public Catalog {
public:
	CatalogBeforeRename(Catalog &now, CatalogRename rename) : now_(now), rename_(std::move(rename)) {}
	const CatalogTable &Table(CatalogOid oid) override;
	const CatalogTable *FindTable(const std::string &schema, const std::string &name) override;

private:
	Catalog &now_;
	CatalogRename rename_;
	std::map<CatalogOid, CatalogTable> before_; // the tables rename changed, as they were
};

// shape (resolved as resolved, before rename) with every name that resolved to the renamed object
// written with its new name: a column item, an embedded table, a hint naming the constraint, one
// of its columns or the junction. Aliases stay; an item without alias renders under its new name
// (as a flat key's document follows a renamed column), and an alias equal to the new name goes.
Shape RenameInShape(const Shape &shape, const ResolvedShape &resolved, const CatalogRename &rename);

} // namespace store::core
