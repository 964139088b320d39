// store core: the shapes of nested documents (issue 11), written in PostgREST's `select` syntax:
//   film_id,title,language:language!film_language_id_fkey(name),actors:actor(actor_id,first_name)
// This file parses such a text into a tree and renders a tree back to a canonical text. It knows
// nothing of the catalog: the glue resolves names, hints and relationships against it.
//
// Grammar (whitespace -- space, tab, CR, LF -- is allowed around every token):
//   shape      := items
//   items      := item ( ',' item )*
//   item       := '*' | [ name ':' ] name [ embedding ]     (alias:column, or alias:table(...))
//   embedding  := ( '!' name )* '(' items ')'               (at most one hint and one !left)
//   name       := bare | quoted
//   bare       := segment ( '-' segment )*                  ('-' not followed by '>')
//   segment    := ( letter | digit | '_' | '$' | ' ' | byte >= 0x80 )+, trimmed of spaces
//   quoted     := '"' ( any byte but '"', '\' or NUL | '""' | '\' byte )+ '"'
// Case is kept (PostgREST quotes every name: `Title` is the column "Title"). Unquoted `!inner` and
// `!left` are PostgREST's join types, not hints: `!left` (what store always does) is accepted and
// dropped, `!inner` is refused; quote a constraint with such a name (`!"inner"`).
// Refused with an error that names the position and shows the text around it (SQLSTATE 42601
// for text that is not a shape, 22023 for limits and duplicate keys): an empty shape, empty item,
// trailing comma, empty embedding `t()`, unbalanced parentheses, a hint without a table or on a
// column, an alias on `*`, two aliases or two hints on one item, a key twice in one object, and
// PostgREST features a stored document cannot have (casts `::`, JSON paths `->`, aggregates
// `col.sum()`, spreads `...t()`, `!inner`); beyond kMaxShapeDepth nested embeddings, a text
// over kMaxShapeLength bytes or a name over kMaxShapeNameLength bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace store::core {

// Longest shape text, in bytes: far above any real shape, small enough to bound the work.
constexpr std::size_t kMaxShapeLength = 65536;

// Deepest nesting of embeddings (a flat shape has depth 0): bounds the parser's recursion.
constexpr int kMaxShapeDepth = 32;

// Longest name, alias or hint, in bytes: PostgreSQL's identifiers (NAMEDATALEN - 1).
constexpr std::size_t kMaxShapeNameLength = 63;

enum class ShapeItemKind {
	kStar,      // '*': every column of the table, in table order
	kColumn,    // a column of the table
	kEmbedding, // a related table's rows: an object, or an array of objects
};

// One item of a shape's object: what it shows and under which key.
struct ShapeItem {
	ShapeItemKind kind = ShapeItemKind::kColumn;
	std::string name;                // the column or the embedded table; empty for '*'
	std::string alias;               // the key it renders under; empty: its name (never equal to name)
	std::string hint;                // embeddings: the foreign key's constraint or column; empty: none
	std::vector<ShapeItem> children; // embeddings: the embedded object's items (never empty)

	// The key this item renders under in its object: its alias, else its name ("" for '*').
	const std::string &
	OutputKey() const
	{
		return alias.empty() ? name : alias;
	}
};

// True when both items show the same thing under the same key (all fields, children included).
bool operator==(const ShapeItem &a, const ShapeItem &b);
bool operator!=(const ShapeItem &a, const ShapeItem &b);

// A parsed shape: the root object's items, in the order their keys appear in a document.
struct Shape {
	std::vector<ShapeItem> items;
};

bool operator==(const Shape &a, const Shape &b);
bool operator!=(const Shape &a, const Shape &b);

// Parses a shape text; throws Error (42601 or 22023) saying what is wrong and where.
Shape ParseShape(std::string_view text);

// The canonical text of a shape: no whitespace, names quoted only when needed, no alias equal to
// its name, no `!left`. ParseShape(RenderShape(s)) == s for every s ParseShape returned.
std::string RenderShape(const Shape &shape);

// A name as a shape writes it: bare when it reads back as itself, else double-quoted.
std::string RenderShapeName(std::string_view name);

// The deepest nesting of embeddings in shape: 0 when it has none.
int ShapeDepth(const Shape &shape);

} // namespace store::core
