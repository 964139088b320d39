// Unit tests: the statements mapping changed rows of a shape's tables back to root ids, over a
// fake catalog of a small Pagila-like schema.
#include "core/error.hpp"
#include "core/reverse_lookup.hpp"
#include "core/shape.hpp"

#include "fake_catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace store::core;

namespace {

constexpr CatalogOid kInt4 = 23;
constexpr CatalogOid kInt8 = 20;
constexpr CatalogOid kDate = 1082;
constexpr CatalogOid kNumeric = 1700;
constexpr CatalogOid kText = 25;

using store::unit::FakeCatalog;

enum : CatalogOid {
	kLanguage = 1,
	kFilm,
	kActor,
	kFilmActor,
	kInventory,
	kRental,
	kPayment,
	kRefund,
	kGauge,
	kReading,
	kNote,
	kTag,
};

// film -> language twice; film_actor junction; inventory -> film; rental (PK rental_id, day) ->
// inventory; payment (rental_id, day) -> rental; refund (day, rental_id) -> rental (day,
// rental_id); gauge with a numeric key and reading -> gauge; film_note (int8) -> film; tag
// (text) -> film.
FakeCatalog
Pagila()
{
	FakeCatalog c;
	c.Add(kLanguage, "language", {{"language_id", kInt4}, {"name", kText}}, {1});
	c.Add(kFilm, "film",
	      {{"film_id", kInt4}, {"title", kText}, {"language_id", kInt4}, {"original_language_id", kInt4}}, {1});
	c.Add(kActor, "actor", {{"actor_id", kInt4}, {"last_name", kText}}, {1});
	c.Add(kFilmActor, "film_actor", {{"actor_id", kInt4}, {"film_id", kInt4}}, {1, 2});
	c.Add(kInventory, "inventory", {{"inventory_id", kInt4}, {"film_id", kInt4}}, {1});
	c.Add(kRental, "rental", {{"rental_id", kInt4}, {"day", kDate}, {"inventory_id", kInt4}}, {1, 2});
	c.Add(kPayment, "payment", {{"payment_id", kInt4}, {"rental_id", kInt4}, {"day", kDate}, {"amount", kNumeric}},
	      {1});
	c.Add(kRefund, "refund", {{"refund_id", kInt4}, {"day", kDate}, {"rental_id", kInt4}}, {1});
	c.Add(kGauge, "gauge", {{"gauge_id", kNumeric}}, {1});
	c.Add(kReading, "reading", {{"reading_id", kInt4}, {"gauge_id", kNumeric}}, {1});
	c.Add(kNote, "film_note", {{"note_id", kInt4}, {"film_id", kInt8}}, {1});
	c.Add(kTag, "tag", {{"tag_id", kInt4}, {"film_id", 0}}, {1}); // type unknown
	c.AddForeignKey(101, "film_language_id_fkey", kFilm, {3}, kLanguage, {1});
	c.AddForeignKey(102, "film_original_language_id_fkey", kFilm, {4}, kLanguage, {1});
	c.AddForeignKey(104, "film_actor_actor_id_fkey", kFilmActor, {1}, kActor, {1});
	c.AddForeignKey(105, "film_actor_film_id_fkey", kFilmActor, {2}, kFilm, {1});
	c.AddForeignKey(106, "inventory_film_id_fkey", kInventory, {2}, kFilm, {1});
	c.AddForeignKey(107, "rental_inventory_id_fkey", kRental, {3}, kInventory, {1});
	c.AddForeignKey(108, "payment_rental_fkey", kPayment, {2, 3}, kRental, {1, 2});
	c.AddForeignKey(109, "refund_rental_fkey", kRefund, {2, 3}, kRental, {2, 1});
	c.AddForeignKey(110, "reading_gauge_id_fkey", kReading, {2}, kGauge, {1});
	c.AddForeignKey(111, "film_note_film_id_fkey", kNote, {2}, kFilm, {1});
	c.AddForeignKey(112, "tag_film_id_fkey", kTag, {2}, kFilm, {1});
	return c;
}

// The lookups of text resolved for root over the Pagila catalog.
std::vector<ReverseLookup>
Lookups(CatalogOid root, const std::string &text)
{
	FakeCatalog catalog = Pagila();
	return ReverseLookups(ResolveShape(ParseShape(text), root, catalog), catalog);
}

// "path:table[j]" of each lookup, in order.
std::vector<std::string>
Places(const std::vector<ReverseLookup> &lookups)
{
	std::vector<std::string> places;
	for (const ReverseLookup &lookup : lookups)
		places.push_back(lookup.path + ":" + std::to_string(lookup.table) + (lookup.junction ? "j" : ""));
	return places;
}

TEST(ReverseLookup, RootIdsComeFromTheValues)
{
	std::vector<ReverseLookup> lookups = Lookups(kFilm, "title");
	ASSERT_EQ(lookups.size(), 1u);
	EXPECT_EQ(lookups[0].path, "");
	EXPECT_EQ(lookups[0].columns, std::vector<int>{1});
	EXPECT_EQ(lookups[0].column_names, std::vector<std::string>{"film_id"});
	EXPECT_FALSE(lookups[0].reads_tables);
	EXPECT_EQ(lookups[0].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"c\".v1) AS id FROM pg_catalog.unnest($1) AS "
	                          "\"c\"(v1)");
}

TEST(ReverseLookup, CompositeRootKeyInKeyOrder)
{
	std::vector<ReverseLookup> lookups = Lookups(kRental, "rental_id,payment(amount),refund(refund_id)");
	ASSERT_EQ(lookups.size(), 3u);
	EXPECT_EQ(lookups[0].sql, "SELECT DISTINCT pg_catalog.jsonb_build_array(\"c\".v1, \"c\".v2) AS id FROM "
	                          "ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS \"c\"(v1, v2)");
	// payment holds (rental_id, day) -> rental's key: the ids are its values, non-NULL.
	EXPECT_EQ(lookups[1].column_names, (std::vector<std::string>{"rental_id", "day"}));
	EXPECT_EQ(lookups[1].sql, "SELECT DISTINCT pg_catalog.jsonb_build_array(\"c\".v1, \"c\".v2) AS id FROM "
	                          "ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS \"c\"(v1, v2) WHERE "
	                          "\"c\".v1 IS NOT NULL AND \"c\".v2 "
	                          "IS NOT NULL");
	// refund holds (day, rental_id) -> rental (day, rental_id): the id still lists rental_id first.
	EXPECT_EQ(lookups[2].column_names, (std::vector<std::string>{"day", "rental_id"}));
	EXPECT_EQ(lookups[2].sql, "SELECT DISTINCT pg_catalog.jsonb_build_array(\"c\".v2, \"c\".v1) AS id FROM "
	                          "ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS \"c\"(v1, v2) WHERE "
	                          "\"c\".v2 IS NOT NULL AND \"c\".v1 "
	                          "IS NOT NULL");
	EXPECT_FALSE(lookups[2].reads_tables);
}

TEST(ReverseLookup, ToOneTargetsJoinTheirHolders)
{
	std::vector<ReverseLookup> lookups = Lookups(
	    kFilm, "title,language:language!film_language_id_fkey(name),original:language!original_language_id(name)");
	ASSERT_EQ(Places(lookups), (std::vector<std::string>{":2", "language:1", "original:1"}));
	EXPECT_EQ(lookups[1].column_names, std::vector<std::string>{"language_id"});
	EXPECT_TRUE(lookups[1].reads_tables);
	EXPECT_EQ(lookups[1].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"t1\".film_id) AS id FROM pg_catalog.unnest($1) "
	                          "AS \"c\"(v1), ONLY public.film AS \"t1\" WHERE \"c\".v1 OPERATOR(pg_catalog.=) "
	                          "\"t1\".language_id");
	EXPECT_NE(lookups[2].sql.find("\"c\".v1 OPERATOR(pg_catalog.=) \"t1\".original_language_id"), std::string::npos);
}

TEST(ReverseLookup, ManyToManyThroughTheJunction)
{
	std::vector<ReverseLookup> lookups = Lookups(kFilm, "title,actors:actor(last_name)");
	ASSERT_EQ(Places(lookups), (std::vector<std::string>{":2", "actors:3", "actors:4j"}));
	EXPECT_EQ(lookups[1].column_names, std::vector<std::string>{"actor_id"});
	EXPECT_EQ(lookups[1].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"t1\".film_id) AS id FROM pg_catalog.unnest($1) "
	                          "AS \"c\"(v1), ONLY public.film_actor AS \"t1\" WHERE \"c\".v1 OPERATOR(pg_catalog.=) "
	                          "\"t1\".actor_id AND \"t1\".film_id IS NOT NULL");
	EXPECT_TRUE(lookups[2].junction);
	EXPECT_EQ(lookups[2].column_names, std::vector<std::string>{"film_id"});
	EXPECT_FALSE(lookups[2].reads_tables);
	// Seen from the actor: the junction's actor_id is the root key.
	std::vector<ReverseLookup> films = Lookups(kActor, "last_name,film!film_actor(title)");
	EXPECT_EQ(films[2].column_names, std::vector<std::string>{"actor_id"});
	EXPECT_FALSE(films[2].reads_tables);
}

TEST(ReverseLookup, DeepPathsJoinParentByParent)
{
	std::vector<ReverseLookup> lookups = Lookups(kFilm, "title,inventory(rental(payment(amount)))");
	ASSERT_EQ(Places(lookups),
	          (std::vector<std::string>{":2", "inventory:5", "inventory.rental:6", "inventory.rental.payment:7"}));
	EXPECT_FALSE(lookups[1].reads_tables);
	EXPECT_EQ(lookups[2].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"t1\".film_id) AS id FROM pg_catalog.unnest($1) "
	                          "AS \"c\"(v1), ONLY public.inventory AS \"t1\" WHERE \"t1\".inventory_id "
	                          "OPERATOR(pg_catalog.=) \"c\".v1 AND \"t1\".film_id IS NOT NULL");
	EXPECT_EQ(lookups[3].column_names, (std::vector<std::string>{"rental_id", "day"}));
	EXPECT_EQ(lookups[3].sql,
	          "SELECT DISTINCT pg_catalog.to_jsonb(\"t2\".film_id) AS id FROM ROWS FROM (pg_catalog.unnest($1), "
	          "pg_catalog.unnest($2)) AS "
	          "\"c\"(v1, v2), ONLY public.rental AS \"t1\", ONLY public.inventory AS \"t2\" WHERE \"t1\".rental_id "
	          "OPERATOR(pg_catalog.=) \"c\".v1 AND \"t1\".day OPERATOR(pg_catalog.=) \"c\".v2 AND \"t2\".inventory_id "
	          "OPERATOR(pg_catalog.=) \"t1\".inventory_id AND \"t2\".film_id IS NOT NULL");
}

TEST(ReverseLookup, ShortcutOnlyForExactTypes)
{
	// numeric: 5.00 = 5.0 but renders otherwise; the root's own column is read.
	std::vector<ReverseLookup> gauge = Lookups(kGauge, "gauge_id,reading(reading_id)");
	EXPECT_TRUE(gauge[1].reads_tables);
	EXPECT_EQ(gauge[1].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"t1\".gauge_id) AS id FROM pg_catalog.unnest($1) "
	                        "AS \"c\"(v1), ONLY public.gauge AS \"t1\" WHERE \"t1\".gauge_id OPERATOR(pg_catalog.=) "
	                        "\"c\".v1");
	// int8 referencing int4: other types, read the root; an unknown type too.
	EXPECT_TRUE(Lookups(kFilm, "title,film_note(note_id)")[1].reads_tables);
	EXPECT_TRUE(Lookups(kFilm, "title,tag(tag_id)")[1].reads_tables);
	EXPECT_FALSE(Lookups(kFilm, "title,inventory(inventory_id)")[1].reads_tables);
}

TEST(ReverseLookup, TableTwiceIncludingTheRoot)
{
	std::vector<ReverseLookup> lookups =
	    Lookups(kLanguage, "name,film!language_id(title,original:language!original_language_id(name))");
	ASSERT_EQ(Places(lookups), (std::vector<std::string>{":1", "film:2", "film.original:1"}));
	EXPECT_EQ(lookups[1].column_names, std::vector<std::string>{"language_id"});
	EXPECT_FALSE(lookups[1].reads_tables);
	EXPECT_EQ(lookups[2].sql, "SELECT DISTINCT pg_catalog.to_jsonb(\"t1\".language_id) AS id FROM "
	                          "pg_catalog.unnest($1) AS \"c\"(v1), ONLY public.film AS \"t1\" WHERE \"c\".v1 "
	                          "OPERATOR(pg_catalog.=) \"t1\".original_language_id AND \"t1\".language_id IS NOT NULL");
}

TEST(ReverseLookup, WatchedColumnsAreThoseADocumentReads)
{
	// film: film_id (shown), language_id (joined by the language object); not original_language_id.
	std::vector<ReverseLookup> lookups =
	    Lookups(kFilm, "film_id,language:language!film_language_id_fkey(name),actors:actor(last_name)");
	ASSERT_EQ(Places(lookups), (std::vector<std::string>{":2", "language:1", "actors:3", "actors:4j"}));
	EXPECT_EQ(lookups[0].watched, (std::vector<int>{1, 3}));
	EXPECT_EQ(lookups[1].watched, (std::vector<int>{1, 2})); // language_id joined, name shown
	EXPECT_EQ(lookups[2].watched, (std::vector<int>{1, 2})); // actor_id joined and ordered by, last_name
	EXPECT_EQ(lookups[3].watched, (std::vector<int>{1, 2})); // the junction's key: both foreign keys
	// inventory shows only its id, but its film_id joins it to the film.
	EXPECT_EQ(Lookups(kFilm, "title,inventory(inventory_id)")[1].watched, (std::vector<int>{1, 2}));
	// The root's key is its document's id, shown or not; its title only when shown.
	EXPECT_EQ(Lookups(kFilm, "film_id")[0].watched, std::vector<int>{1});
	EXPECT_EQ(Lookups(kFilm, "title")[0].watched, (std::vector<int>{1, 2}));
	EXPECT_EQ(Lookups(kRental, "inventory_id")[0].watched, (std::vector<int>{1, 2, 3}));
}

TEST(ReverseLookup, RootWithoutPrimaryKey)
{
	FakeCatalog catalog = Pagila();
	catalog.Add(99, "loose", {{"x", kInt4}}, {});
	ResolvedShape shape = ResolveShape(ParseShape("x"), 99, catalog);
	try {
		ReverseLookups(shape, catalog);
		ADD_FAILURE() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.sqlstate(), "55000");
	}
}

} // namespace
