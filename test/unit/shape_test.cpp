// Unit tests: the shapes of nested documents (PostgREST's select syntax): parse, render, errors.
#include "core/error.hpp"
#include "core/shape.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

using namespace store::core;

namespace {

// A column item, with an alias when given.
ShapeItem
Column(std::string name, std::string alias = "")
{
	ShapeItem item;
	item.kind = ShapeItemKind::kColumn;
	item.name = std::move(name);
	item.alias = std::move(alias);
	return item;
}

// A '*' item.
ShapeItem
Star()
{
	ShapeItem item;
	item.kind = ShapeItemKind::kStar;
	return item;
}

// An embedding item.
ShapeItem
Embed(std::string name, std::vector<ShapeItem> children, std::string alias = "", std::string hint = "")
{
	ShapeItem item;
	item.kind = ShapeItemKind::kEmbedding;
	item.name = std::move(name);
	item.alias = std::move(alias);
	item.hint = std::move(hint);
	item.children = std::move(children);
	return item;
}

// The error ParseShape raises for text; fails the test when it accepts it.
Error
ErrorOf(const std::string &text)
{
	try {
		Shape shape = ParseShape(text);
		ADD_FAILURE() << "accepted \"" << text << "\" as " << RenderShape(shape);
	} catch (const Error &e) {
		return e;
	}
	return Error("00000", "");
}

// Checks that text is refused with sqlstate and exactly message, and a hint.
void
ExpectRefused(const std::string &text, const std::string &sqlstate, const std::string &message)
{
	Error e = ErrorOf(text);
	EXPECT_EQ(e.sqlstate(), sqlstate) << text;
	EXPECT_EQ(std::string(e.what()), message) << text;
	EXPECT_FALSE(e.hint().empty()) << text;
}

// Checks the round trip of text: its canonical text parses back to the same tree and is stable.
void
ExpectRoundTrip(const std::string &text)
{
	Shape shape = ParseShape(text);
	std::string canonical = RenderShape(shape);
	EXPECT_EQ(ParseShape(canonical), shape) << text << " -> " << canonical;
	EXPECT_EQ(RenderShape(ParseShape(canonical)), canonical) << text;
}

// A text of depth embeddings nested in one another around one column.
std::string
Nested(int depth)
{
	std::string text;
	for (int i = 0; i < depth; i++)
		text += "t(";
	text += "c";
	return text + std::string(depth, ')');
}

} // namespace

// The grammar, one rule at a time.

TEST(ParseShape, ReadsColumnsInOrder)
{
	Shape shape = ParseShape("film_id,title");
	EXPECT_EQ(shape.items, (std::vector<ShapeItem>{Column("film_id"), Column("title")}));
	EXPECT_EQ(shape.items[1].OutputKey(), "title");
	EXPECT_EQ(ShapeDepth(shape), 0);
}

TEST(ParseShape, ReadsStar)
{
	EXPECT_EQ(ParseShape("*").items, std::vector<ShapeItem>{Star()});
	EXPECT_EQ(ParseShape("*").items[0].OutputKey(), "");
	EXPECT_EQ(ParseShape("*,actors:actor(*)").items,
	          (std::vector<ShapeItem>{Star(), Embed("actor", {Star()}, "actors")}));
}

TEST(ParseShape, ReadsAliasedColumns)
{
	Shape shape = ParseShape("id:film_id,name:title");
	EXPECT_EQ(shape.items, (std::vector<ShapeItem>{Column("film_id", "id"), Column("title", "name")}));
	EXPECT_EQ(shape.items[0].OutputKey(), "id");
}

TEST(ParseShape, DropsAnAliasEqualToItsName)
{
	EXPECT_EQ(ParseShape("title:title"), ParseShape("title"));
	EXPECT_EQ(ParseShape("actor:actor(name)"), ParseShape("actor(name)"));
	EXPECT_NE(ParseShape("Title:title"), ParseShape("title"));
}

TEST(ParseShape, ReadsEmbeddingsWithAliasAndHint)
{
	EXPECT_EQ(ParseShape("actor(name)").items, std::vector<ShapeItem>{Embed("actor", {Column("name")})});
	EXPECT_EQ(ParseShape("actors:actor(name)").items,
	          std::vector<ShapeItem>{Embed("actor", {Column("name")}, "actors")});
	EXPECT_EQ(ParseShape("lang:language!film_language_id_fkey(name)").items,
	          std::vector<ShapeItem>{Embed("language", {Column("name")}, "lang", "film_language_id_fkey")});
	EXPECT_EQ(ParseShape("language!language_id(name)").items,
	          std::vector<ShapeItem>{Embed("language", {Column("name")}, "", "language_id")});
}

TEST(ParseShape, AcceptsLeftJoinAndDropsIt)
{
	Shape plain = ParseShape("language!fk(name)");
	EXPECT_EQ(ParseShape("language!left!fk(name)"), plain);
	EXPECT_EQ(ParseShape("language!fk!left(name)"), plain);
	EXPECT_EQ(ParseShape("language!left(name)"), ParseShape("language(name)"));
}

TEST(ParseShape, ReadsQuotedJoinTypeWordsAsHints)
{
	EXPECT_EQ(ParseShape("t!\"inner\"(a)").items[0].hint, "inner");
	EXPECT_EQ(ParseShape("t!\"left\"(a)").items[0].hint, "left");
	EXPECT_EQ(ParseShape("t!Inner(a)").items[0].hint, "Inner"); // case matters, as in PostgREST
}

TEST(ParseShape, KeepsCase)
{
	EXPECT_EQ(ParseShape("FilmId:Film_ID").items[0], Column("Film_ID", "FilmId"));
}

TEST(ParseShape, ReadsQuotedNames)
{
	EXPECT_EQ(ParseShape("\"my col\"").items[0], Column("my col"));
	EXPECT_EQ(ParseShape("\"say \"\"hi\"\"\"").items[0], Column("say \"hi\""));
	EXPECT_EQ(ParseShape("\"a\\\"b\\\\c\"").items[0], Column("a\"b\\c")); // PostgREST's backslash escape
	EXPECT_EQ(ParseShape("\"a,b\":\"x(y)\"").items[0], Column("x(y)", "a,b"));
	EXPECT_EQ(ParseShape("\"*\"").items[0], Column("*")); // a column named *, not all columns
	EXPECT_EQ(ParseShape("\" padded \"").items[0], Column(" padded "));
	EXPECT_EQ(ParseShape("\"my table\"!\"my fk\"(\"my col\")").items[0],
	          Embed("my table", {Column("my col")}, "", "my fk"));
}

TEST(ParseShape, ReadsBareNamesAsPostgrestDoes)
{
	// Digits, '$', non-ASCII bytes; dashes join segments; inner spaces are kept, outer ones trimmed.
	EXPECT_EQ(ParseShape("123,a$b,été").items, (std::vector<ShapeItem>{Column("123"), Column("a$b"), Column("été")}));
	EXPECT_EQ(ParseShape("my-col,a - b").items, (std::vector<ShapeItem>{Column("my-col"), Column("a-b")}));
	EXPECT_EQ(ParseShape("first name").items[0], Column("first name"));
}

TEST(ParseShape, AllowsWhitespaceAroundTokens)
{
	Shape compact = ParseShape("id,l:language!fk(name),actors:actor(*)");
	EXPECT_EQ(ParseShape(" id ,\n\tl : language ! fk ( name ) ,\r\n actors:actor( * ) "), compact);
	EXPECT_EQ(ParseShape("id,\n  l:language!fk(\n    name\n  ),\n  actors:actor(*)\n"), compact);
}

TEST(ParseShape, AllowsATableMoreThanOnce)
{
	Shape shape = ParseShape("billing:address!billing_id(city),shipping:address!shipping_id(city)");
	EXPECT_EQ(shape.items, (std::vector<ShapeItem>{Embed("address", {Column("city")}, "billing", "billing_id"),
	                                               Embed("address", {Column("city")}, "shipping", "shipping_id")}));
}

TEST(ParseShape, AllowsEqualKeysInDifferentObjects)
{
	EXPECT_NO_THROW(ParseShape("name,a(name,b(name)),c(name)"));
}

// The examples of issue 11.

TEST(ParseShape, ReadsThePagilaFilmExample)
{
	Shape shape = ParseShape("film_id,title,language:language!film_language_id_fkey(name),actors:actor(actor_id,first_"
	                         "name,last_name),categories:category(name)");
	std::vector<ShapeItem> expected{
	    Column("film_id"),
	    Column("title"),
	    Embed("language", {Column("name")}, "", "film_language_id_fkey"),
	    Embed("actor", {Column("actor_id"), Column("first_name"), Column("last_name")}, "actors"),
	    Embed("category", {Column("name")}, "categories"),
	};
	EXPECT_EQ(shape.items, expected);
	std::vector<std::string> keys;
	for (const ShapeItem &item : shape.items)
		keys.push_back(item.OutputKey());
	EXPECT_EQ(keys, (std::vector<std::string>{"film_id", "title", "language", "actors", "categories"}));
	EXPECT_EQ(ShapeDepth(shape), 1);
	EXPECT_EQ(RenderShape(shape), "film_id,title,language!film_language_id_fkey(name),actors:actor(actor_id,first_name,"
	                              "last_name),categories:category(name)");
}

TEST(ParseShape, ReadsCustomerAddressCityCountry)
{
	Shape shape = ParseShape("customer_id,email,address(address,phone,city(city,country(country)))");
	EXPECT_EQ(shape.items[2],
	          Embed("address", {Column("address"), Column("phone"),
	                            Embed("city", {Column("city"), Embed("country", {Column("country")})})}));
	EXPECT_EQ(ShapeDepth(shape), 3);
	EXPECT_EQ(RenderShape(shape), "customer_id,email,address(address,phone,city(city,country(country)))");
}

// Limits.

TEST(ParseShape, AcceptsTheDeepestNesting)
{
	Shape shape = ParseShape(Nested(kMaxShapeDepth));
	EXPECT_EQ(ShapeDepth(shape), kMaxShapeDepth);
	EXPECT_EQ(RenderShape(shape), Nested(kMaxShapeDepth));
}

TEST(ParseShape, RefusesDeeperNesting)
{
	std::string text = Nested(kMaxShapeDepth + 1);
	ExpectRefused(text, "22023",
	              "invalid shape: embeddings nest deeper than 32 levels at character 66 (after "
	              "\"...(t(t(t(t(t(t(t(t\", before \"(c))))))))))))))...\")");
	ExpectRefused(Nested(1000), "22023",
	              "invalid shape: embeddings nest deeper than 32 levels at character 66 (after "
	              "\"...(t(t(t(t(t(t(t(t\", before \"(t(t(t(t(t(t(t(t...\")");
}

TEST(ParseShape, RefusesOverlongText)
{
	std::string longest(kMaxShapeLength, ' ');
	longest[0] = 'a';
	EXPECT_EQ(ParseShape(longest).items, std::vector<ShapeItem>{Column("a")});
	ExpectRefused(longest + " ", "22023", "invalid shape: 65537 bytes long, more than the 65536 allowed");
}

TEST(ParseShape, RefusesOverlongNames)
{
	std::string longest(kMaxShapeNameLength, 'n');
	EXPECT_EQ(ParseShape(longest + ":" + longest + "!" + longest + "(" + longest + ")").items[0].hint, longest);
	std::string name = longest + "n";
	ExpectRefused(name, "22023",
	              "invalid shape: name longer than 63 bytes at character 1 (before \"nnnnnnnnnnnnnnnn...\")");
	ExpectRefused(
	    "a:" + name, "22023",
	    "invalid shape: name longer than 63 bytes at character 3 (after \"a:\", before \"nnnnnnnnnnnnnnnn...\")");
	EXPECT_EQ(ErrorOf("t!\"" + name + "\"(a)").sqlstate(), "22023");
	EXPECT_EQ(ErrorOf(name + "(a)").sqlstate(), "22023");
}

// Errors: each says what is wrong and where.

TEST(ParseShape, RefusesAnEmptyShape)
{
	for (const char *text : {"", "   ", "\n\t"})
		ExpectRefused(text, "42601", "invalid shape: the shape is empty");
}

TEST(ParseShape, RefusesEmptyItems)
{
	ExpectRefused("a,,b", "42601", "invalid shape: empty item before ',' at character 3 (after \"a,\", before \",b\")");
	ExpectRefused(",a", "42601", "invalid shape: empty item before ',' at character 1 (before \",a\")");
	ExpectRefused("t(a,,b)", "42601",
	              "invalid shape: empty item before ',' at character 5 (after \"t(a,\", before \",b)\")");
	ExpectRefused("t(,b)", "42601",
	              "invalid shape: empty item before ',' at character 3 (after \"t(\", before \",b)\")");
}

TEST(ParseShape, RefusesTrailingCommas)
{
	ExpectRefused("a,b,", "42601", "invalid shape: trailing ',' at character 4 (after \"a,b\", before \",\")");
	ExpectRefused("a, \n", "42601", "invalid shape: trailing ',' at character 2 (after \"a\", before \",  \")");
	ExpectRefused("t(a,)", "42601",
	              "invalid shape: trailing ',' before ')' at character 4 (after \"t(a\", before \",)\")");
}

TEST(ParseShape, RefusesEmptyEmbeddings)
{
	ExpectRefused("t()", "42601",
	              "invalid shape: embedding \"t\" selects nothing at character 2 (after \"t\", before \"()\")");
	ExpectRefused("a,x:t!fk( )", "42601",
	              "invalid shape: embedding \"t\" selects nothing at character 9 (after \"a,x:t!fk\", before \"( )\")");
	EXPECT_EQ(ErrorOf("count()").hint(), "name its columns, or * for all of them: count(*)");
}

TEST(ParseShape, RefusesUnbalancedParentheses)
{
	ExpectRefused("a(b", "42601", "invalid shape: '(' is never closed at character 2 (after \"a\", before \"(b\")");
	ExpectRefused("a(b(c)", "42601",
	              "invalid shape: '(' is never closed at character 2 (after \"a\", before \"(b(c)\")");
	ExpectRefused("a(", "42601", "invalid shape: '(' is never closed at character 2 (after \"a\", before \"(\")");
	ExpectRefused("a(b,", "42601", "invalid shape: '(' is never closed at character 2 (after \"a\", before \"(b,\")");
	ExpectRefused("a)", "42601", "invalid shape: unmatched ')' at character 2 (after \"a\", before \")\")");
	ExpectRefused("a(b))", "42601", "invalid shape: unmatched ')' at character 5 (after \"a(b)\", before \")\")");
	ExpectRefused(")", "42601", "invalid shape: unexpected ')' at character 1 (before \")\")");
	ExpectRefused("a,)", "42601", "invalid shape: trailing ',' before ')' at character 2 (after \"a\", before \",)\")");
}

TEST(ParseShape, RefusesMisplacedHints)
{
	ExpectRefused("!fk(name)", "42601",
	              "invalid shape: a hint needs a table before it at character 1 (before \"!fk(name)\")");
	ExpectRefused("a,x:!fk(name)", "42601",
	              "invalid shape: a column or table name after ':' is missing at character 5 (after \"a,x:\", before "
	              "\"!fk(name)\")");
	ExpectRefused("name!fk", "42601",
	              "invalid shape: a hint applies only to an embedding: '(' expected at the end of the shape (after "
	              "\"name!fk\")");
	ExpectRefused("name!fk,b", "42601",
	              "invalid shape: a hint applies only to an embedding: '(' expected at character 8 (after \"name!fk\", "
	              "before \",b\")");
	ExpectRefused("t!(a)", "42601",
	              "invalid shape: a hint after '!' is missing at character 3 (after \"t!\", before \"(a)\")");
	ExpectRefused("t!a!b(c)", "42601",
	              "invalid shape: an embedding has at most one hint at character 4 (after \"t!a\", before \"!b(c)\")");
	ExpectRefused("t!left!left(c)", "42601",
	              "invalid shape: !left appears twice at character 7 (after \"t!left\", before \"!left(c)\")");
}

TEST(ParseShape, RefusesMisplacedStarsAndAliases)
{
	ExpectRefused("alias:*", "42601",
	              "invalid shape: '*' cannot have an alias at character 7 (after \"alias:\", before \"*\")");
	ExpectRefused("*:x", "42601",
	              "invalid shape: '*' cannot have an alias at character 2 (after \"*\", before \":x\")");
	ExpectRefused("*(a)", "42601", "invalid shape: '*' is not a table at character 2 (after \"*\", before \"(a)\")");
	ExpectRefused("*!fk(a)", "42601",
	              "invalid shape: '*' is not a table at character 2 (after \"*\", before \"!fk(a)\")");
	ExpectRefused("* a", "42601",
	              "invalid shape: unexpected character 'a' after '*' at character 3 (after \"* \", before \"a\")");
	ExpectRefused("a:b:c", "42601",
	              "invalid shape: an item has at most one alias at character 4 (after \"a:b\", before \":c\")");
	ExpectRefused(":a", "42601", "invalid shape: ':' needs an alias before it at character 1 (before \":a\")");
	ExpectRefused("x:", "42601",
	              "invalid shape: a column or table name after ':' is missing at the end of the shape (after \"x:\")");
	ExpectRefused("(a)", "42601",
	              "invalid shape: an embedding needs a table name before '(' at character 1 (before \"(a)\")");
}

TEST(ParseShape, RefusesDuplicateKeysInOneObject)
{
	ExpectRefused("id,title,id", "22023",
	              "invalid shape: key \"id\" appears twice in one object at character 10 (after \"id,title,\", before "
	              "\"id\")");
	ExpectRefused(
	    "name:title,name", "22023",
	    "invalid shape: key \"name\" appears twice in one object at character 12 (after \"name:title,\", before "
	    "\"name\")");
	ExpectRefused(
	    "actor(a),actor(b)", "22023",
	    "invalid shape: key \"actor\" appears twice in one object at character 10 (after \"actor(a),\", before "
	    "\"actor(b)\")");
	ExpectRefused(
	    "t(a, b, a)", "22023",
	    "invalid shape: key \"a\" appears twice in one object at character 9 (after \"t(a, b, \", before \"a)\")");
	ExpectRefused("*,*", "22023",
	              "invalid shape: '*' appears twice in one object at character 3 (after \"*,\", before \"*\")");
	EXPECT_EQ(ErrorOf("actor(a),actor(b)").hint(),
	          "a document's keys are unique: give one of them another key with an alias, e.g. other_actor:actor");
	EXPECT_NO_THROW(ParseShape("*,id")); // '*' expands against the catalog: the glue checks what it adds
}

TEST(ParseShape, RefusesPostgrestFeaturesDocumentsCannotHave)
{
	ExpectRefused(
	    "a::text", "42601",
	    "invalid shape: casts (column::type) are not supported at character 2 (after \"a\", before \"::text\")");
	ExpectRefused("x:a->b", "42601",
	              "invalid shape: JSON paths (column->key) are not supported at character 4 (after \"x:a\", before "
	              "\"->b\")");
	ExpectRefused("a->>b", "42601",
	              "invalid shape: JSON paths (column->key) are not supported at character 2 (after \"a\", before "
	              "\"->>b\")");
	ExpectRefused("amount.sum()", "42601",
	              "invalid shape: aggregates (column.sum()) are not supported at character 7 (after \"amount\", before "
	              "\".sum()\")");
	ExpectRefused("...t(a)", "42601",
	              "invalid shape: spread embeddings (...table(columns)) are not supported at character 1 (before "
	              "\"...t(a)\")");
	ExpectRefused("t!inner(a)", "42601",
	              "invalid shape: !inner is not supported: embedded rows never filter a document's root rows at "
	              "character 2 (after \"t\", before \"!inner(a)\")");
	ExpectRefused("t!fk!inner(a)", "42601",
	              "invalid shape: !inner is not supported: embedded rows never filter a document's root rows at "
	              "character 5 (after \"t!fk\", before \"!inner(a)\")");
}

TEST(ParseShape, RefusesMalformedNames)
{
	ExpectRefused("\"abc", "42601", "invalid shape: unterminated quoted name at character 1 (before \"\"abc\")");
	ExpectRefused("\"ab\"\"", "42601", "invalid shape: unterminated quoted name at character 1 (before \"\"ab\"\"\")");
	ExpectRefused("\"ab\\", "42601", "invalid shape: unterminated quoted name at character 1 (before \"\"ab\\\")");
	ExpectRefused("a,\"\"", "42601", "invalid shape: empty quoted name at character 3 (after \"a,\", before \"\"\"\")");
	ExpectRefused("a-", "42601", "invalid shape: a name cannot end with '-' at the end of the shape (after \"a-\")");
	ExpectRefused("a- ,b", "42601",
	              "invalid shape: a name cannot end with '-' at character 3 (after \"a-\", before \" ,b\")");
	ExpectRefused("\"a\"b", "42601",
	              "invalid shape: unexpected character 'b' after \"a\" at character 4 (after \"\"a\"\", before \"b\")");
	ExpectRefused(std::string("\"a\0b\"", 5), "42601",
	              "invalid shape: NUL byte in a name at character 3 (after \"\"a\", before \" b\"\")");
}

TEST(ParseShape, RefusesUnexpectedCharacters)
{
	ExpectRefused("a;b", "42601",
	              "invalid shape: unexpected character ';' after \"a\" at character 2 (after \"a\", before \";b\")");
	ExpectRefused(
	    "film_id\ntitle", "42601",
	    "invalid shape: unexpected character 't' after \"film_id\" at character 9 (after \"film_id \", before "
	    "\"title\")");
	ExpectRefused(
	    "t(a)b", "42601",
	    "invalid shape: unexpected character 'b' after embedding \"t\" at character 5 (after \"t(a)\", before "
	    "\"b\")");
	ExpectRefused("'a'", "42601", "invalid shape: unexpected character ''' at character 1 (before \"'a'\")");
	ExpectRefused(std::string("a,\x01", 3), "42601",
	              "invalid shape: unexpected character byte 0x01 at character 3 (after \"a,\", before \" \")");
	EXPECT_EQ(ErrorOf("a;b").hint(),
	          "separate items with commas (a missing comma?); double-quote names with other characters: \"my col\"");
}

TEST(ParseShape, CountsCharactersNotBytes)
{
	ExpectRefused("été,,b", "42601",
	              "invalid shape: empty item before ',' at character 5 (after \"été,\", before \",b\")");
	std::string accents;
	for (int i = 0; i < 20; i++)
		accents += "é";
	ExpectRefused(accents + ";", "42601",
	              "invalid shape: unexpected character ';' after \"" + accents + "\" at character 21 (after \"..." +
	                  accents.substr(0, 32) + "\", before \";\")");
}

// Rendering and the round trip.

TEST(RenderShape, WritesTheCanonicalText)
{
	EXPECT_EQ(RenderShape(ParseShape(" a , b:c , t ! fk ( * , x ) ")), "a,b:c,t!fk(*,x)");
	EXPECT_EQ(RenderShape(ParseShape("t!left!fk(a)")), "t!fk(a)");
	EXPECT_EQ(RenderShape(ParseShape("\"plain\",\"my col\",\"*\",my-col")), "plain,\"my col\",\"*\",\"my-col\"");
	EXPECT_EQ(RenderShape(ParseShape("t!\"inner\"(a),u!\"left\"(b)")), "t!\"inner\"(a),u!\"left\"(b)");
	EXPECT_EQ(RenderShape(ParseShape("inner:left")), "inner:left");
}

TEST(RenderShape, QuotesNamesThatNeedIt)
{
	EXPECT_EQ(RenderShapeName("film_id"), "film_id");
	EXPECT_EQ(RenderShapeName("Été$2"), "Été$2");
	EXPECT_EQ(RenderShapeName("my col"), "\"my col\"");
	EXPECT_EQ(RenderShapeName("say \"hi\""), "\"say \"\"hi\"\"\"");
	EXPECT_EQ(RenderShapeName("a\\b"), "\"a\\\\b\"");
	EXPECT_EQ(RenderShapeName("a.b"), "\"a.b\"");
	EXPECT_EQ(RenderShapeName(""), "\"\"");
}

TEST(RenderShape, RoundTrips)
{
	for (const char *text :
	     {"*", "a", "a:b",
	      "film_id,title,language:language!film_language_id_fkey(name),actors:actor(actor_id,first_"
	      "name,last_name),categories:category(name)",
	      "customer_id,address(address,city(city,country(country)))", " x : \"my col\" , t ! \"my fk\" ( * , y:z ) ",
	      "\"say \"\"hi\"\"\",\"a\\\\b\",\"\\\"q\\\"\"", "first name,a - b,été", "t!left!fk(a)", "t!\"inner\"(a)",
	      "\"*\",*", "\"a,b\":\"(x)\"", "\" \""})
		ExpectRoundTrip(text);
	ExpectRoundTrip(Nested(kMaxShapeDepth));
}

// A random name from pieces that need quoting or escaping, or read as something else when bare.
std::string
RandomName(std::mt19937 *random)
{
	static const std::vector<std::string> pieces{"a", "Z", "0", "_", "$",  "é",  " ",  "-",  ">", ":",     ",",   "(",
	                                             ")", "!", "*", ".", "\"", "\\", "\n", "\t", "'", "inner", "left"};
	std::string name;
	std::size_t length = 1 + (*random)() % 4;
	while (name.size() < length)
		name += pieces[(*random)() % pieces.size()];
	return name.substr(0, kMaxShapeNameLength);
}

// Random items for one object of a random tree, with unique keys, at most depth levels deep.
std::vector<ShapeItem>
RandomItems(std::mt19937 *random, int depth)
{
	std::vector<ShapeItem> items;
	std::set<std::string> keys;
	bool star = false;
	for (std::size_t count = 1 + (*random)() % 4; items.size() < count;) {
		unsigned kind = (*random)() % 4;
		if (kind == 0) {
			if (!star)
				items.push_back(Star());
			star = true;
			continue;
		}
		ShapeItem item = kind == 1 || depth == 0 ? Column(RandomName(random))
		                                         : Embed(RandomName(random), RandomItems(random, depth - 1));
		if ((*random)() % 2)
			item.alias = RandomName(random);
		if (item.alias == item.name)
			item.alias.clear();
		if (item.kind == ShapeItemKind::kEmbedding && (*random)() % 2)
			item.hint = RandomName(random);
		if (keys.insert(item.OutputKey()).second)
			items.push_back(std::move(item));
	}
	return items;
}

TEST(RenderShape, RandomTreesReadBackAsThemselves)
{
	std::mt19937 random(11);
	for (int i = 0; i < 2000; i++) {
		Shape shape{RandomItems(&random, 3)};
		std::string text = RenderShape(shape);
		EXPECT_EQ(ParseShape(text), shape) << text;
	}
}
