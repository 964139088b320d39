// store core: parsing and rendering the shapes of nested documents (PostgREST's select syntax).
#include "core/shape.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <set>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

// SQLSTATE syntax_error: the text is not a shape (PostgreSQL's own parsers use it too).
constexpr const char *kSyntaxError = "42601";

// Characters of the shape's text shown on each side of an error's position.
constexpr std::size_t kExcerptChars = 16;

constexpr const char *kGrammarHint =
    "a shape is a comma-separated list of *, column, alias:column and [alias:]table[!hint](items), as in "
    "PostgREST's select; double-quote names with other characters: \"my col\"";
constexpr const char *kItemHint = "write one of *, column, alias:column or [alias:]table[!hint](items) between commas";
constexpr const char *kUnsupportedHint =
    "a store shape keeps PostgREST's *, columns, aliases and embeddings with hints; stored documents show "
    "columns as they are: compute other values in a view or a generated column";

// True for the whitespace allowed around tokens.
bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// True for a byte of a bare name: PostgREST's letters, digits, '_' and '$'; any non-ASCII byte,
// so UTF-8 letters pass. (Spaces inside a bare name are handled by the segment scan.)
bool
IsBareChar(char c)
{
	unsigned char u = static_cast<unsigned char>(c);
	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '$' ||
	       u >= 0x80;
}

// True for the first byte of a UTF-8 character (positions count characters, not bytes).
bool
IsLeadByte(char c)
{
	return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
}

// True for hint words PostgREST reads as join types when unquoted.
bool
IsJoinTypeWord(std::string_view word)
{
	return word == "inner" || word == "left";
}

// A byte for an error message: itself when printable, else its hex code.
std::string
Describe(char c)
{
	unsigned char u = static_cast<unsigned char>(c);
	if (u >= 0x20 && u < 0x7f)
		return std::string("'") + c + "'";
	const char *digits = "0123456789abcdef";
	return std::string("byte 0x") + digits[u >> 4] + digits[u & 15];
}

// Text of a shape made safe for a one-line message: control bytes become spaces.
std::string
Printable(std::string_view text)
{
	std::string out(text);
	std::replace_if(
	    out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
	return out;
}

// Parses one shape text; each Parse* method reads one rule of the grammar at pos_.
class Parser {
public:
	explicit Parser(std::string_view text) : text_(text) {}

	// The whole text as a shape.
	Shape
	Parse()
	{
		SkipSpace();
		if (AtEnd())
			throw Error(kSyntaxError, "invalid shape: the shape is empty",
			            "list the columns a document shows, e.g. 'id,title', or '*' for all of them; omit shape for a "
			            "flat document");
		Shape shape;
		shape.items = ParseItems(0, std::string_view::npos);
		if (!AtEnd())
			Fail(kSyntaxError, pos_, "unmatched ')'", "remove it, or open its embedding with table(");
		return shape;
	}

private:
	// Throws the error for a problem at byte offset at, showing where it is.
	[[noreturn]] void
	Fail(const char *sqlstate, std::size_t at, const std::string &problem, const std::string &hint) const
	{
		throw Error(sqlstate, "invalid shape: " + problem + " " + Where(at), hint);
	}

	// "at character N (after "...", before "...")": where byte offset at is, for a user.
	std::string
	Where(std::size_t at) const
	{
		if (at >= text_.size())
			return "at the end of the shape (after \"" + Before(text_.size()) + "\")";
		std::string where = "at character " + std::to_string(CharacterNumber(at));
		std::string before = Before(at);
		if (before.empty())
			return where + " (before \"" + After(at) + "\")";
		return where + " (after \"" + before + "\", before \"" + After(at) + "\")";
	}

	// The 1-based number of the character starting at byte offset at.
	std::size_t
	CharacterNumber(std::size_t at) const
	{
		return 1 + static_cast<std::size_t>(std::count_if(text_.begin(), text_.begin() + at, IsLeadByte));
	}

	// Up to kExcerptChars characters ending at byte offset at, "..." first when cut.
	std::string
	Before(std::size_t at) const
	{
		std::size_t begin = at;
		for (std::size_t chars = 0; begin > 0 && chars < kExcerptChars;)
			if (IsLeadByte(text_[--begin]))
				chars++;
		return (begin > 0 ? "..." : "") + Printable(text_.substr(begin, at - begin));
	}

	// Up to kExcerptChars characters from byte offset at, "..." last when cut.
	std::string
	After(std::size_t at) const
	{
		std::size_t end = at;
		for (std::size_t chars = 0; end < text_.size() && chars < kExcerptChars; chars++)
			do
				end++;
			while (end < text_.size() && !IsLeadByte(text_[end]));
		return Printable(text_.substr(at, end - at)) + (end < text_.size() ? "..." : "");
	}

	// True when the whole text has been read.
	bool
	AtEnd() const
	{
		return pos_ >= text_.size();
	}

	// The byte at pos_ + ahead, or NUL past the end (a NUL in the text is refused where met).
	char
	Peek(std::size_t ahead = 0) const
	{
		return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
	}

	// Skips the whitespace allowed around tokens.
	void
	SkipSpace()
	{
		while (!AtEnd() && IsSpace(text_[pos_]))
			pos_++;
	}

	// items: one object's comma-separated items, each output key once. open is the offset of the
	// embedding's '(' (npos at the root), for the error when the text ends inside it.
	std::vector<ShapeItem>
	ParseItems(int depth, std::size_t open)
	{
		std::vector<ShapeItem> items;
		std::set<std::string> keys;
		bool star = false;
		for (;;) {
			SkipSpace();
			std::size_t start = pos_;
			items.push_back(ParseItem(depth, open));
			CheckNewKey(items.back(), start, &keys, &star);
			SkipSpace();
			if (Peek() != ',')
				return items;
			std::size_t comma = pos_++;
			SkipSpace();
			if (AtEnd() && open == std::string_view::npos)
				Fail(kSyntaxError, comma, "trailing ','", "remove the last comma, or add the item it announces");
			if (Peek() == ')')
				Fail(kSyntaxError, comma, "trailing ',' before ')'", "remove the comma, or add the item it announces");
		}
	}

	// Refuses an item whose output key its object already has: a JSON object's keys are unique.
	void
	CheckNewKey(const ShapeItem &item, std::size_t start, std::set<std::string> *keys, bool *star) const
	{
		if (item.kind == ShapeItemKind::kStar) {
			if (*star)
				Fail(sqlstate::kInvalidParameterValue, start, "'*' appears twice in one object", "remove one of them");
			*star = true;
			return;
		}
		if (!keys->insert(item.OutputKey()).second)
			Fail(sqlstate::kInvalidParameterValue, start,
			     "key \"" + Printable(item.OutputKey()) + "\" appears twice in one object",
			     "a document's keys are unique: give one of them another key with an alias, e.g. " +
			         RenderShapeName("other_" + item.OutputKey()) + ":" + RenderShapeName(item.name));
	}

	// item: '*', a column or an embedding, with its alias.
	ShapeItem
	ParseItem(int depth, std::size_t open)
	{
		CheckItemStart(open);
		ShapeItem item;
		if (Peek() == '*') {
			pos_++;
			item.kind = ShapeItemKind::kStar;
			CheckStarEnd();
			return item;
		}
		std::string first = ParseName("a name");
		SkipSpace();
		if (Peek() == ':' && Peek(1) != ':') {
			pos_++;
			SkipSpace();
			if (Peek() == '*')
				Fail(kSyntaxError, pos_, "'*' cannot have an alias",
				     "write * alone; alias the columns you name: alias:column");
			item.alias = std::move(first);
			item.name = ParseName("a column or table name after ':'");
		} else {
			item.name = std::move(first);
		}
		if (item.alias == item.name)
			item.alias.clear();
		ParseItemTail(&item, depth);
		return item;
	}

	// Refuses what cannot start an item: nothing at all, or a character no item starts with.
	void
	CheckItemStart(std::size_t open) const
	{
		if (AtEnd())
			FailUnclosed(open); // only inside an embedding: the root's end is an empty shape or a trailing ','
		char c = Peek();
		if (c == ',')
			Fail(kSyntaxError, pos_, "empty item before ','", kItemHint);
		if (c == ')')
			Fail(kSyntaxError, pos_, "unexpected ')'", "remove it, or open its embedding with table(");
		if (c == '.')
			Fail(kSyntaxError, pos_, "spread embeddings (...table(columns)) are not supported", kUnsupportedHint);
		if (c == '!')
			Fail(kSyntaxError, pos_, "a hint needs a table before it", "write table!hint(columns)");
		if (c == '(')
			Fail(kSyntaxError, pos_, "an embedding needs a table name before '('", "write table(columns)");
		if (c == ':')
			Fail(kSyntaxError, pos_, "':' needs an alias before it", "write alias:column or alias:table(columns)");
		if (c != '*' && c != '"' && !IsBareChar(c))
			Fail(kSyntaxError, pos_, "unexpected character " + Describe(c), kGrammarHint);
	}

	// Refuses anything but the end of an item after '*'.
	void
	CheckStarEnd()
	{
		SkipSpace();
		char c = Peek();
		if (AtEnd() || c == ',' || c == ')')
			return;
		if (c == '!' || c == '(')
			Fail(kSyntaxError, pos_, "'*' is not a table", "embed a table by name: table(*)");
		if (c == ':')
			Fail(kSyntaxError, pos_, "'*' cannot have an alias",
			     "write * alone; alias the columns you name: alias:column");
		Fail(kSyntaxError, pos_, "unexpected character " + Describe(c) + " after '*'",
		     "separate items with commas: *,other");
	}

	// What follows an item's name: an embedding, or the end of a column.
	void
	ParseItemTail(ShapeItem *item, int depth)
	{
		SkipSpace();
		char c = Peek();
		if (!AtEnd() && (c == '!' || c == '(')) {
			item->kind = ShapeItemKind::kEmbedding;
			ParseHints(item);
			ParseEmbedding(item, depth);
			CheckEmbeddingEnd(*item);
			return;
		}
		if (AtEnd() || c == ',' || c == ')')
			return;
		CheckColumnEnd(*item);
	}

	// Refuses anything but the end of an item after an embedding's ')'.
	void
	CheckEmbeddingEnd(const ShapeItem &item)
	{
		SkipSpace();
		char c = Peek();
		if (AtEnd() || c == ',' || c == ')')
			return;
		Fail(kSyntaxError, pos_,
		     "unexpected character " + Describe(c) + " after embedding \"" + Printable(item.OutputKey()) + "\"",
		     "separate items with commas (a missing comma?)");
	}

	// Refuses what cannot follow a column: PostgREST's casts, JSON paths and aggregates, a second
	// alias, or anything else.
	void
	CheckColumnEnd(const ShapeItem &item) const
	{
		char c = Peek();
		if (c == ':' && Peek(1) == ':')
			Fail(kSyntaxError, pos_, "casts (column::type) are not supported", kUnsupportedHint);
		if (c == ':')
			Fail(kSyntaxError, pos_, "an item has at most one alias", "write alias:column");
		if (c == '-' && Peek(1) == '>')
			Fail(kSyntaxError, pos_, "JSON paths (column->key) are not supported", kUnsupportedHint);
		if (c == '.')
			Fail(kSyntaxError, pos_, "aggregates (column.sum()) are not supported",
			     std::string(kUnsupportedHint) + "; double-quote a name that contains a dot: \"a.b\"");
		Fail(kSyntaxError, pos_,
		     "unexpected character " + Describe(c) + " after \"" + Printable(item.OutputKey()) + "\"",
		     "separate items with commas (a missing comma?); double-quote names with other characters: \"my col\"");
	}

	// ( '!' name )*: at most one hint and one !left; !inner is refused.
	void
	ParseHints(ShapeItem *item)
	{
		bool left = false;
		while (Peek() == '!') {
			std::size_t bang = pos_++;
			SkipSpace();
			bool quoted = Peek() == '"';
			std::string word = ParseName("a hint after '!'");
			SkipSpace();
			if (!quoted && word == "inner")
				Fail(kSyntaxError, bang, "!inner is not supported: embedded rows never filter a document's root rows",
				     "remove !inner and filter the root rows with store_register's filter; double-quote a "
				     "constraint named inner: !\"inner\"");
			if (!quoted && word == "left") {
				if (left)
					Fail(kSyntaxError, bang, "!left appears twice", "remove one of them");
				left = true;
				continue;
			}
			if (!item->hint.empty())
				Fail(kSyntaxError, bang, "an embedding has at most one hint",
				     "name one foreign key: its constraint or its column");
			item->hint = std::move(word);
		}
	}

	// '(' items ')': the embedded object, one level deeper.
	void
	ParseEmbedding(ShapeItem *item, int depth)
	{
		if (Peek() != '(')
			Fail(kSyntaxError, pos_, "a hint applies only to an embedding: '(' expected",
			     "write table!hint(columns); a column takes no hint");
		std::size_t open = pos_++;
		if (depth + 1 > kMaxShapeDepth)
			Fail(sqlstate::kInvalidParameterValue, open,
			     "embeddings nest deeper than " + std::to_string(kMaxShapeDepth) + " levels", "flatten the shape");
		SkipSpace();
		if (Peek() == ')')
			Fail(kSyntaxError, open, "embedding \"" + Printable(item->name) + "\" selects nothing",
			     "name its columns, or * for all of them: " + RenderShapeName(item->name) + "(*)");
		item->children = ParseItems(depth + 1, open);
		if (AtEnd())
			FailUnclosed(open);
		pos_++; // ParseItems stops only at the end, ',' (consumed) or ')'
	}

	// Throws the error for an embedding whose '(' at byte offset open is never closed.
	[[noreturn]] void
	FailUnclosed(std::size_t open) const
	{
		Fail(kSyntaxError, open, "'(' is never closed", "close each embedding's items with ')'");
	}

	// name: a quoted or bare name, at most kMaxShapeNameLength bytes. what says what was expected.
	std::string
	ParseName(const char *what)
	{
		SkipSpace();
		std::size_t start = pos_;
		std::string name;
		if (Peek() == '"')
			name = ParseQuoted();
		else if (!AtEnd() && IsBareChar(Peek()))
			name = ParseBare();
		else
			Fail(kSyntaxError, pos_, std::string(what) + " is missing", kGrammarHint);
		if (name.size() > kMaxShapeNameLength)
			Fail(sqlstate::kInvalidParameterValue, start,
			     "name longer than " + std::to_string(kMaxShapeNameLength) + " bytes",
			     "PostgreSQL names have at most " + std::to_string(kMaxShapeNameLength) + " bytes");
		return name;
	}

	// quoted: '"' ... '"', where "" and \" stand for '"' and \x for x (PostgREST's escape).
	std::string
	ParseQuoted()
	{
		std::size_t open = pos_++;
		std::string name;
		for (;;) {
			if (AtEnd())
				Fail(kSyntaxError, open, "unterminated quoted name", "end it with '\"'; write \"\" for a '\"' inside");
			char c = text_[pos_];
			if (c == '"' && Peek(1) != '"')
				break;
			if (c == '\\' && pos_ + 1 == text_.size())
				Fail(kSyntaxError, open, "unterminated quoted name", "end it with '\"'; write \\\\ for a '\\' inside");
			if (c == '"' || c == '\\')
				c = text_[++pos_]; // "" or \x: the next byte itself
			if (c == '\0')
				Fail(kSyntaxError, pos_, "NUL byte in a name", kGrammarHint);
			name += c;
			pos_++;
		}
		pos_++;
		if (name.empty())
			Fail(kSyntaxError, open, "empty quoted name", "a name has at least one character");
		return name;
	}

	// bare: segments of name bytes and spaces, each trimmed, joined by '-' (not '->').
	std::string
	ParseBare()
	{
		std::string name;
		for (;;) {
			std::size_t begin = pos_;
			while (!AtEnd() && (IsBareChar(text_[pos_]) || text_[pos_] == ' '))
				pos_++;
			std::string_view segment = text_.substr(begin, pos_ - begin);
			segment.remove_prefix(std::min(segment.find_first_not_of(' '), segment.size()));
			segment.remove_suffix(segment.size() - (segment.find_last_not_of(' ') + 1));
			if (segment.empty())
				Fail(kSyntaxError, begin, "a name cannot end with '-'", "double-quote names with other characters");
			name += segment;
			if (Peek() != '-' || Peek(1) == '>' || AtEnd())
				return name;
			name += '-';
			pos_++;
		}
	}

	std::string_view text_;
	std::size_t pos_ = 0;
};

// True when name reads back as itself without quotes.
bool
IsBareSafe(std::string_view name)
{
	return !name.empty() && std::all_of(name.begin(), name.end(), IsBareChar);
}

// A hint as a shape writes it: quoted also when unquoted it would read as a join type.
std::string
RenderHint(std::string_view hint)
{
	return IsJoinTypeWord(hint) ? "\"" + std::string(hint) + "\"" : RenderShapeName(hint);
}

void RenderItems(const std::vector<ShapeItem> &items, std::string *out);

// One item's canonical text, appended to out.
void
RenderItem(const ShapeItem &item, std::string *out)
{
	if (item.kind == ShapeItemKind::kStar) {
		*out += '*';
		return;
	}
	if (!item.alias.empty())
		*out += RenderShapeName(item.alias) + ":";
	*out += RenderShapeName(item.name);
	if (item.kind != ShapeItemKind::kEmbedding)
		return;
	if (!item.hint.empty())
		*out += "!" + RenderHint(item.hint);
	*out += '(';
	RenderItems(item.children, out);
	*out += ')';
}

// Items' canonical text, comma-separated, appended to out.
void
RenderItems(const std::vector<ShapeItem> &items, std::string *out)
{
	for (std::size_t i = 0; i < items.size(); i++) {
		if (i > 0)
			*out += ',';
		RenderItem(items[i], out);
	}
}

// The deepest nesting of embeddings among items.
int
DepthOf(const std::vector<ShapeItem> &items)
{
	int depth = 0;
	for (const ShapeItem &item : items)
		if (item.kind == ShapeItemKind::kEmbedding)
			depth = std::max(depth, 1 + DepthOf(item.children));
	return depth;
}

} // namespace

bool
operator==(const ShapeItem &a, const ShapeItem &b)
{
	return a.kind == b.kind && a.name == b.name && a.alias == b.alias && a.hint == b.hint && a.children == b.children;
}

bool
operator!=(const ShapeItem &a, const ShapeItem &b)
{
	return !(a == b);
}

bool
operator==(const Shape &a, const Shape &b)
{
	return a.items == b.items;
}

bool
operator!=(const Shape &a, const Shape &b)
{
	return !(a == b);
}

Shape
ParseShape(std::string_view text)
{
	if (text.size() > kMaxShapeLength)
		throw Error(sqlstate::kInvalidParameterValue,
		            "invalid shape: " + std::to_string(text.size()) + " bytes long, more than the " +
		                std::to_string(kMaxShapeLength) + " allowed",
		            "register a smaller shape");
	return Parser(text).Parse();
}

std::string
RenderShape(const Shape &shape)
{
	std::string out;
	RenderItems(shape.items, &out);
	return out;
}

std::string
RenderShapeName(std::string_view name)
{
	if (IsBareSafe(name))
		return std::string(name);
	std::string out = "\"";
	for (char c : name) {
		if (c == '"' || c == '\\')
			out += c;
		out += c;
	}
	return out + "\"";
}

int
ShapeDepth(const Shape &shape)
{
	return DepthOf(shape.items);
}

} // namespace store::core
