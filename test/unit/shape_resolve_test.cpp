// Unit tests: resolving shapes against a catalog (PostgREST's relationship rules) and the SQL
// rendering a document, over a fake catalog of a small Pagila-like schema.
#include "core/error.hpp"
#include "core/shape.hpp"
#include "core/shape_resolve.hpp"

#include "fake_catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace store::core;

namespace {

using store::unit::FakeCatalog;

enum : CatalogOid {
	kLanguage = 1,
	kFilm,
	kFilmDetail,
	kActor,
	kFilmActor,
	kInventory,
	kRental,
	kPayment,
	kStaff,
	kNote,
	kView,
	kPart,
};

// film(language_id, original_language_id -> language), film_detail(film_id PK -> film),
// film_actor(actor_id, film_id) junction, inventory -> film, rental (partitioned, PK (id, day))
// -> inventory, payment (rental_id, day) -> rental, staff self-reference, film_note without PK,
// a view and a partition.
FakeCatalog
Pagila()
{
	FakeCatalog c;
	c.Add(kLanguage, "language", {"language_id", "name"}, {1});
	c.Add(kFilm, "film", {"film_id", "title", "language_id", "original_language_id"}, {1}).indexes.push_back({3});
	c.Add(kFilmDetail, "film_detail", {"film_id", "synopsis"}, {1});
	c.Add(kActor, "actor", {"actor_id", "first_name", "last_name"}, {1});
	c.Add(kFilmActor, "film_actor", {"actor_id", "film_id", "last_update"}, {1, 2}).indexes.push_back({2});
	c.Add(kInventory, "inventory", {"inventory_id", "film_id"}, {1});
	c.Add(kRental, "rental", {"rental_id", "day", "inventory_id"}, {1, 2}, 'p');
	c.Add(kPayment, "payment", {"payment_id", "rental_id", "day", "amount"}, {1}).indexes.push_back({3, 2, 4});
	c.Add(kStaff, "staff", {"staff_id", "manager_id"}, {1});
	c.Add(kNote, "film_note", {"film_id", "note"}, {});
	c.Add(kView, "film_list", {"film_id", "title"}, {}, 'v');
	c.Add(kPart, "rental_2022", {"rental_id", "day", "inventory_id"}, {1, 2}).is_partition = true;
	c.AddForeignKey(101, "film_language_id_fkey", kFilm, {3}, kLanguage, {1});
	c.AddForeignKey(102, "film_original_language_id_fkey", kFilm, {4}, kLanguage, {1});
	c.AddForeignKey(103, "film_detail_film_id_fkey", kFilmDetail, {1}, kFilm, {1});
	c.AddForeignKey(104, "film_actor_actor_id_fkey", kFilmActor, {1}, kActor, {1});
	c.AddForeignKey(105, "film_actor_film_id_fkey", kFilmActor, {2}, kFilm, {1});
	c.AddForeignKey(106, "inventory_film_id_fkey", kInventory, {2}, kFilm, {1});
	c.AddForeignKey(107, "rental_inventory_id_fkey", kRental, {3}, kInventory, {1});
	c.AddForeignKey(108, "payment_rental_fkey", kPayment, {2, 3}, kRental, {1, 2});
	c.AddForeignKey(109, "staff_manager_id_fkey", kStaff, {2}, kStaff, {1});
	c.AddForeignKey(110, "film_note_film_id_fkey", kNote, {1}, kFilm, {1});
	return c;
}

// The shape text resolved for root over the Pagila catalog.
ResolvedShape
Resolve(CatalogOid root, const std::string &text)
{
	FakeCatalog catalog = Pagila();
	return ResolveShape(ParseShape(text), root, catalog);
}

// The error resolving text for root raises; fails the test when it resolves.
Error
ErrorOf(CatalogOid root, const std::string &text)
{
	try {
		Resolve(root, text);
		ADD_FAILURE() << "resolved \"" << text << "\"";
	} catch (const Error &e) {
		return e;
	}
	return Error("00000", "");
}

// The keys of a node's object, in order.
std::vector<std::string>
Keys(const ResolvedNode &node)
{
	std::vector<std::string> keys;
	for (const ResolvedField &field : node.fields)
		keys.push_back(field.key);
	return keys;
}

TEST(ShapeResolve, StarExpandsToLiveColumnsInAttributeOrder)
{
	ResolvedShape shape = Resolve(kActor, "*");
	EXPECT_EQ(Keys(shape.root), (std::vector<std::string>{"actor_id", "first_name", "last_name"}));
	EXPECT_EQ(shape.root.kind, EdgeKind::kRoot);
	EXPECT_EQ(shape.root.path, "");
}

TEST(ShapeResolve, ManyToOneByConstraintAndByColumn)
{
	ResolvedShape shape =
	    Resolve(kFilm, "title,language:language!film_language_id_fkey(name),original:language!original_language_id(*)");
	ASSERT_EQ(shape.root.children.size(), 2u);
	const ResolvedNode &language = shape.root.children[0];
	EXPECT_EQ(language.kind, EdgeKind::kManyToOne);
	EXPECT_EQ(language.join.fk.name, "film_language_id_fkey");
	EXPECT_TRUE(language.index_ok);
	EXPECT_EQ(language.join_text, "film(language_id) -> language(language_id)");
	const ResolvedNode &original = shape.root.children[1];
	EXPECT_EQ(original.join.fk.name, "film_original_language_id_fkey");
	EXPECT_FALSE(original.index_ok); // no index leads with original_language_id
	EXPECT_EQ(original.path, "original");
	EXPECT_EQ(Keys(shape.root), (std::vector<std::string>{"title", "language", "original"}));
}

TEST(ShapeResolve, TwoCandidatesAreAmbiguous)
{
	Error e = ErrorOf(kFilm, "title,language(name)");
	EXPECT_EQ(e.sqlstate(), "42P09");
	EXPECT_NE(e.hint().find("language!film_language_id_fkey"), std::string::npos);
	EXPECT_NE(e.hint().find("language!film_original_language_id_fkey"), std::string::npos);
}

TEST(ShapeResolve, OneToOneFromBothSides)
{
	ResolvedShape film = Resolve(kFilm, "title,film_detail(synopsis)");
	EXPECT_EQ(film.root.children[0].kind, EdgeKind::kOneToOne);
	EXPECT_TRUE(film.root.children[0].child_holds_key);
	EXPECT_FALSE(film.root.children[0].IsArray());
	ResolvedShape detail = Resolve(kFilmDetail, "synopsis,film(title)");
	EXPECT_EQ(detail.root.children[0].kind, EdgeKind::kOneToOne);
	EXPECT_FALSE(detail.root.children[0].child_holds_key);
}

TEST(ShapeResolve, OneToManyOrderedByPrimaryKey)
{
	ResolvedShape shape = Resolve(kFilm, "title,inventory(inventory_id)");
	const ResolvedNode &inventory = shape.root.children[0];
	EXPECT_EQ(inventory.kind, EdgeKind::kOneToMany);
	EXPECT_TRUE(inventory.IsArray());
	EXPECT_EQ(inventory.order_sql, (std::vector<std::string>{"inventory_id"}));
	EXPECT_FALSE(inventory.index_ok); // inventory(film_id) has no index in this catalog
	// The child reads its key column, its shown columns and its order.
	EXPECT_EQ(inventory.read_columns, (std::vector<int>{1, 2}));
}

TEST(ShapeResolve, ManyToManyThroughJunction)
{
	ResolvedShape shape = Resolve(kFilm, "title,actors:actor(last_name)");
	const ResolvedNode &actors = shape.root.children[0];
	EXPECT_EQ(actors.kind, EdgeKind::kManyToMany);
	EXPECT_EQ(actors.junction, kFilmActor);
	EXPECT_EQ(actors.join.fk.name, "film_actor_film_id_fkey");
	EXPECT_EQ(actors.far_join.fk.name, "film_actor_actor_id_fkey");
	EXPECT_TRUE(actors.index_ok); // film_id has its index, actor_id leads the primary key
	EXPECT_EQ(actors.junction_order_sql, (std::vector<std::string>{"actor_id", "film_id"}));
	EXPECT_EQ(actors.join_text, "film_actor(film_id) -> film(film_id), film_actor(actor_id) -> actor(actor_id)");
	// From the other side, hinted by the junction's name.
	ResolvedShape films = Resolve(kActor, "actor_id,film!film_actor(title)");
	EXPECT_EQ(films.root.children[0].kind, EdgeKind::kManyToMany);
}

TEST(ShapeResolve, JunctionWhosePrimaryKeyLacksAKeyIsNoJunction)
{
	FakeCatalog catalog = Pagila();
	catalog.Mutable(kFilmActor).primary_key = {1, 3}; // (actor_id, last_update): film_id left out
	Error e("00000", "");
	try {
		ResolveShape(ParseShape("title,actor(last_name)"), kFilm, catalog);
	} catch (const Error &error) {
		e = error;
	}
	EXPECT_EQ(e.sqlstate(), "42704");
}

TEST(ShapeResolve, CompositeKeysBothWays)
{
	ResolvedShape payment = Resolve(kPayment, "payment_id,rental(day)");
	const ResolvedNode &rental = payment.root.children[0];
	EXPECT_EQ(rental.kind, EdgeKind::kManyToOne);
	EXPECT_EQ(rental.join.referencing_sql, (std::vector<std::string>{"rental_id", "day"}));
	EXPECT_EQ(rental.join.referenced_sql, (std::vector<std::string>{"rental_id", "day"}));
	EXPECT_TRUE(rental.index_ok); // payment (day, rental_id, amount) leads with both columns, in another order
	ResolvedShape rentals = Resolve(kInventory, "inventory_id,rental(rental_id,payment(amount))");
	EXPECT_EQ(rentals.root.children[0].kind, EdgeKind::kOneToMany);
	EXPECT_EQ(rentals.root.children[0].order_sql, (std::vector<std::string>{"rental_id", "day"}));
	EXPECT_EQ(rentals.root.children[0].children[0].path, "rental.payment");
	EXPECT_EQ(rentals.root.children[0].children[0].kind, EdgeKind::kOneToMany);
}

TEST(ShapeResolve, HintsThatMatchNothing)
{
	Error e = ErrorOf(kFilm, "title,language!nope(name)");
	EXPECT_EQ(e.sqlstate(), "42704");
	EXPECT_NE(std::string(e.what()).find("matches hint \"nope\""), std::string::npos);
	EXPECT_NE(e.hint().find("language!film_language_id_fkey"), std::string::npos);
	// A column of the other side is no hint.
	EXPECT_EQ(ErrorOf(kFilm, "title,language!name(name)").sqlstate(), "42704");
}

TEST(ShapeResolve, NoRelationship)
{
	Error e = ErrorOf(kActor, "actor_id,language(name)");
	EXPECT_EQ(e.sqlstate(), "42704");
	EXPECT_NE(std::string(e.what()).find("public.actor"), std::string::npos);
	EXPECT_NE(std::string(e.what()).find("public.language"), std::string::npos);
}

TEST(ShapeResolve, UnknownTableViewPartition)
{
	EXPECT_EQ(ErrorOf(kFilm, "title,nope(x)").sqlstate(), "42P01");
	EXPECT_EQ(ErrorOf(kFilm, "title,Language(name)").sqlstate(), "42P01");
	EXPECT_EQ(ErrorOf(kFilm, "title,film_list(title)").sqlstate(), "42809");
	EXPECT_EQ(ErrorOf(kInventory, "inventory_id,rental_2022(day)").sqlstate(), "0A000");
	EXPECT_EQ(ErrorOf(kPart, "day").sqlstate(), "0A000");
	EXPECT_EQ(ErrorOf(kView, "title").sqlstate(), "42809");
}

// Unlogged and temporary tables are refused as root and embedded: crash recovery empties one (its
// session drops the other) while the store's logged documents stay.
TEST(ShapeResolve, UnloggedAndTemporaryTablesRefused)
{
	for (char persistence : {'u', 't'}) {
		FakeCatalog catalog = Pagila();
		catalog.Add(900, "scratch", {"film_id", "note"}, {1}).persistence = persistence;
		catalog.AddForeignKey(901, "scratch_film_id_fkey", 900, {1}, kFilm, {1});
		for (auto [root, text] : {std::pair<CatalogOid, const char *>{900, "note"}, {kFilm, "title,scratch(note)"}}) {
			try {
				ResolveShape(ParseShape(text), root, catalog);
				ADD_FAILURE() << "resolved \"" << text << "\" over a table of persistence " << persistence;
			} catch (const Error &e) {
				EXPECT_EQ(e.sqlstate(), "0A000") << text;
				EXPECT_NE(std::string(e.what()).find(persistence == 'u' ? "unlogged" : "temporary"), std::string::npos);
			}
		}
	}
}

TEST(ShapeResolve, UnknownColumnNamesTableAndPath)
{
	Error root = ErrorOf(kFilm, "Title");
	EXPECT_EQ(root.sqlstate(), "42703");
	EXPECT_STREQ(root.what(), "column \"Title\" does not exist in table public.film");
	Error deep = ErrorOf(kPayment, "rental(inventory(film(nope)))");
	EXPECT_EQ(deep.sqlstate(), "42703");
	EXPECT_STREQ(deep.what(),
	             "column \"nope\" does not exist in table public.film (embedded as \"rental.inventory.film\")");
}

TEST(ShapeResolve, DuplicateKeysAfterStar)
{
	EXPECT_EQ(ErrorOf(kFilm, "title,*").sqlstate(), "22023");
	EXPECT_EQ(ErrorOf(kFilm, "*,title:language!language_id(name)").sqlstate(), "22023");
	EXPECT_NO_THROW(Resolve(kFilm, "*,name:title"));
}

TEST(ShapeResolve, SelfReferencesByPostgrestRules)
{
	// by the table's name (with or without a hint): the rows pointing here, one-to-many
	for (const char *text : {"staff_id,reports:staff(staff_id)", "staff_id,reports:staff!manager_id(staff_id)",
	                         "staff_id,reports:staff!staff_manager_id_fkey(staff_id)"}) {
		ResolvedShape shape = Resolve(kStaff, text);
		ASSERT_EQ(shape.root.children.size(), 1u) << text;
		EXPECT_EQ(shape.root.children[0].kind, EdgeKind::kOneToMany) << text;
		EXPECT_TRUE(shape.root.children[0].child_holds_key) << text;
		EXPECT_EQ(shape.root.children[0].table, (CatalogOid)kStaff) << text;
	}
	// by the key's column: the row it points to, many-to-one, nested to any depth
	ResolvedShape boss = Resolve(kStaff, "staff_id,boss:manager_id(staff_id,manager_id(staff_id))");
	ASSERT_EQ(boss.root.children.size(), 1u);
	EXPECT_EQ(boss.root.children[0].kind, EdgeKind::kManyToOne);
	EXPECT_FALSE(boss.root.children[0].child_holds_key);
	EXPECT_EQ(Keys(boss.root), (std::vector<std::string>{"staff_id", "boss"}));
	EXPECT_EQ(boss.root.children[0].children[0].kind, EdgeKind::kManyToOne);
	// a hint naming no self-referencing key
	EXPECT_EQ(ErrorOf(kStaff, "staff_id,staff!nothing(staff_id)").sqlstate(), "42704");
	// a column that is no self-referencing key's is no table either
	EXPECT_EQ(ErrorOf(kStaff, "staff_id,x:staff_id(staff_id)").sqlstate(), "42P01");
}

TEST(ShapeResolve, SelfKeyColumnNotShadowedByAnUnrelatedTable)
{
	// a table named like the key's column, with no relationship to staff (anyone who may create
	// tables in the schema can add one): the item still embeds the row the key points to
	FakeCatalog catalog = Pagila();
	catalog.Add(900, "manager_id", {"id"}, {1});
	ResolvedShape boss = ResolveShape(ParseShape("staff_id,boss:manager_id(staff_id)"), kStaff, catalog);
	ASSERT_EQ(boss.root.children.size(), 1u);
	EXPECT_EQ(boss.root.children[0].kind, EdgeKind::kManyToOne);
	EXPECT_EQ(boss.root.children[0].table, (CatalogOid)kStaff);
	// one that has a relationship with staff is the table, as before
	catalog.AddForeignKey(901, "manager_id_staff_fkey", 900, {1}, kStaff, {1});
	ResolvedShape table = ResolveShape(ParseShape("staff_id,boss:manager_id(id)"), kStaff, catalog);
	ASSERT_EQ(table.root.children.size(), 1u);
	EXPECT_EQ(table.root.children[0].table, (CatalogOid)900);
}

TEST(ShapeResolve, ArraysNeedAPrimaryKey)
{
	EXPECT_EQ(ErrorOf(kFilm, "title,film_note(note)").sqlstate(), "55000");
	// A to-one object needs none.
	EXPECT_NO_THROW(Resolve(kNote, "note,film(title)"));
}

TEST(ShapeResolve, TableTwiceAndNodesDepthFirst)
{
	ResolvedShape shape =
	    Resolve(kLanguage, "name,film!language_id(title,original:language!original_language_id(name))");
	std::vector<std::string> paths;
	for (const ResolvedNode *node : ResolvedNodes(shape))
		paths.push_back(node->path);
	EXPECT_EQ(paths, (std::vector<std::string>{"", "film", "film.original"}));
	EXPECT_EQ(shape.root.children[0].kind, EdgeKind::kOneToMany);
	EXPECT_EQ(shape.root.children[0].children[0].kind, EdgeKind::kManyToOne);
}

// The shape text written before rename, as it reads after it (catalog already renamed by apply).
std::string
Renamed(const std::string &text, CatalogRename rename, void (*apply)(FakeCatalog &))
{
	FakeCatalog now = Pagila();
	apply(now);
	Shape shape = ParseShape(text);
	CatalogBeforeRename before(now, rename);
	std::string result = RenderShape(RenameInShape(shape, ResolveShape(shape, kFilm, before), rename));
	ResolveShape(ParseShape(result), kFilm, now); // and it resolves now
	return result;
}

TEST(ShapeRename, ColumnsKeepAliasesAndFollowHints)
{
	CatalogRename title{CatalogRename::Kind::kColumn, kFilm, 2, 0, "title", "name"};
	EXPECT_EQ(
	    Renamed("film_id,title,t:title", title, [](FakeCatalog &c) { c.Mutable(kFilm).columns[1].name = "name"; }),
	    "film_id,name,t:name");
	CatalogRename language{CatalogRename::Kind::kColumn, kFilm, 3, 0, "language_id", "lang_id"};
	EXPECT_EQ(Renamed("language!language_id(name),o:language!original_language_id(name)", language,
	                  [](FakeCatalog &c) { c.Mutable(kFilm).columns[2].name = "lang_id"; }),
	          "language!lang_id(name),o:language!original_language_id(name)");
	CatalogRename alias{CatalogRename::Kind::kColumn, kFilm, 2, 0, "title", "t"};
	EXPECT_EQ(Renamed("t:title", alias, [](FakeCatalog &c) { c.Mutable(kFilm).columns[1].name = "t"; }), "t");
}

TEST(ShapeRename, TablesJunctionsAndConstraints)
{
	CatalogRename actor{CatalogRename::Kind::kTable, kActor, 0, 0, "actor", "performer"};
	EXPECT_EQ(Renamed("actor(actor_id),a:actor(first_name)", actor,
	                  [](FakeCatalog &c) { c.Mutable(kActor).name = "performer"; }),
	          "performer(actor_id),a:performer(first_name)");
	CatalogRename junction{CatalogRename::Kind::kTable, kFilmActor, 0, 0, "film_actor", "casting"};
	EXPECT_EQ(
	    Renamed("actor!film_actor(actor_id)", junction, [](FakeCatalog &c) { c.Mutable(kFilmActor).name = "casting"; }),
	    "actor!casting(actor_id)");
	CatalogRename fk{CatalogRename::Kind::kConstraint, 0, 0, 102, "film_original_language_id_fkey", "original"};
	EXPECT_EQ(Renamed("language!film_language_id_fkey(name),o:language!film_original_language_id_fkey(name)", fk,
	                  [](FakeCatalog &c) { c.Mutable(kFilm).foreign_keys[1].name = "original"; }),
	          "language!film_language_id_fkey(name),o:language!original(name)");
}

TEST(ShapeQuery, ManyToOneExactText)
{
	EXPECT_EQ(ShapeQuery(Resolve(kPayment, "payment_id,rental(day)"), "p"),
	          "pg_catalog.json_build_object(E'payment_id'::pg_catalog.text, \"p\".payment_id, "
	          "E'rental'::pg_catalog.text, (SELECT pg_catalog.json_build_object(E'day'::pg_catalog.text, \"p#1\".day) "
	          "FROM public.rental AS \"p#1\" WHERE \"p#1\".rental_id OPERATOR(pg_catalog.=) \"p\".rental_id AND "
	          "\"p#1\".day OPERATOR(pg_catalog.=) \"p\".day))");
}

TEST(ShapeQuery, ArraysCoalesceAndOrder)
{
	std::string many = ShapeQuery(Resolve(kFilm, "title,actor(last_name)"), "r");
	EXPECT_NE(many.find("COALESCE(pg_catalog.json_agg("), std::string::npos);
	EXPECT_NE(many.find("ORDER BY \"r#1\".actor_id, \"r#1j\".actor_id, \"r#1j\".film_id), '[]'::pg_catalog.json)"),
	          std::string::npos);
	EXPECT_NE(many.find("FROM ONLY public.film_actor AS \"r#1j\" JOIN ONLY public.actor AS \"r#1\""),
	          std::string::npos);
	std::string one = ShapeQuery(Resolve(kFilm, "title,film_detail(synopsis)"), "r");
	EXPECT_EQ(one.find("json_agg"), std::string::npos);
	EXPECT_NE(one.find("WHERE \"r\".film_id OPERATOR(pg_catalog.=) \"r#1\".film_id"), std::string::npos);
}

TEST(ShapeQuery, KeysAreEscapedLiterals)
{
	std::string query = ShapeQuery(Resolve(kFilm, "\"it's\":title,\"a\\\\b\":film_id"), "r");
	EXPECT_NE(query.find("E'it\\'s'::pg_catalog.text"), std::string::npos) << query;
	EXPECT_NE(query.find("E'a\\\\b'::pg_catalog.text"), std::string::npos) << query;
}

TEST(ShapeQuery, WideObjectsSpliceSeveralCalls)
{
	FakeCatalog catalog;
	std::vector<store::unit::FakeColumn> names;
	for (int i = 1; i <= 120; i++)
		names.push_back("c" + std::to_string(i));
	catalog.Add(1, "wide", names, {1});
	std::string query = ShapeQuery(ResolveShape(ParseShape("*"), 1, catalog), "w");
	std::size_t calls = 0;
	for (std::size_t at = query.find("json_build_object("); at != std::string::npos;
	     at = query.find("json_build_object(", at + 1))
		calls++;
	EXPECT_EQ(calls, 3u);
	EXPECT_EQ(query.rfind("(pg_catalog.\"left\"(pg_catalog.json_build_object(", 0), 0u) << query.substr(0, 80);
	EXPECT_NE(
	    query.find(" OPERATOR(pg_catalog.||) E', ' OPERATOR(pg_catalog.||) pg_catalog.\"left\"(pg_catalog.substr("),
	    std::string::npos);
	EXPECT_EQ(query.substr(query.size() - 17), "::pg_catalog.json");
}

TEST(ShapeQuery, RootAliasLength)
{
	ResolvedShape shape = Resolve(kActor, "*");
	EXPECT_THROW(ShapeQuery(shape, ""), Error);
	EXPECT_THROW(ShapeQuery(shape, std::string(41, 'a')), Error);
	EXPECT_NO_THROW(ShapeQuery(shape, std::string(40, 'a')));
}

} // namespace
