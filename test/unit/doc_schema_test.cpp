// Unit tests: JSON Schema of documents and ids (core/doc_schema.hpp) for column types, flat keys
// and nested shapes, over fake catalogs.
#include "core/doc_schema.hpp"
#include "core/error.hpp"
#include "core/shape.hpp"
#include "fake_catalog.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace store::core;
using nlohmann::json;

namespace {

// A type of kind named name.
ColumnType
Type(JsonKind kind, const std::string &name, bool not_null = false)
{
	ColumnType type;
	type.kind = kind;
	type.name = name;
	type.not_null = not_null;
	return type;
}

// The unit tests' fake catalog (fake_catalog.hpp) with its columns' types as well.
class FakeCatalog : public store::unit::FakeCatalog, public TypeCatalog {
public:
	// Adds a table with columns (name, type), attnums 1..n, and a primary key (attnums).
	CatalogTable &
	Add(CatalogOid oid, const std::string &name, const std::vector<std::pair<std::string, ColumnType>> &columns,
	    std::vector<int> primary_key)
	{
		std::vector<store::unit::FakeColumn> names;
		for (std::size_t i = 0; i < columns.size(); i++) {
			names.emplace_back(columns[i].first);
			types_[{oid, (int)i + 1}] = columns[i].second;
		}
		return store::unit::FakeCatalog::Add(oid, name, names, std::move(primary_key));
	}

	ColumnType
	Column(CatalogOid table, int attnum) override
	{
		return types_.at({table, attnum});
	}

private:
	std::map<std::pair<CatalogOid, int>, ColumnType> types_;
};

enum : CatalogOid { kLanguage = 1, kFilm, kActor, kFilmActor, kDetail };

// language <- film (language_id, nullable), film <-> actor through film_actor, film_detail
// (film_id PK -> film: one-to-one).
FakeCatalog
Films()
{
	FakeCatalog c;
	c.Add(kLanguage, "language",
	      {{"language_id", Type(JsonKind::kInteger, "integer", true)}, {"name", Type(JsonKind::kString, "text", true)}},
	      {1});
	c.Add(kFilm, "film",
	      {{"film_id", Type(JsonKind::kInteger, "integer", true)},
	       {"title", Type(JsonKind::kString, "text", true)},
	       {"language_id", Type(JsonKind::kInteger, "integer")}},
	      {1});
	c.Add(kActor, "actor",
	      {{"actor_id", Type(JsonKind::kInteger, "bigint", true)}, {"name", Type(JsonKind::kString, "text")}}, {1});
	c.Add(kFilmActor, "film_actor",
	      {{"actor_id", Type(JsonKind::kInteger, "bigint", true)},
	       {"film_id", Type(JsonKind::kInteger, "integer", true)}},
	      {1, 2});
	c.Add(kDetail, "film_detail",
	      {{"film_id", Type(JsonKind::kInteger, "integer", true)}, {"synopsis", Type(JsonKind::kString, "text")}}, {1});
	c.AddForeignKey(101, "film_language_id_fkey", kFilm, {3}, kLanguage, {1});
	c.AddForeignKey(102, "film_actor_actor_id_fkey", kFilmActor, {1}, kActor, {1});
	c.AddForeignKey(103, "film_actor_film_id_fkey", kFilmActor, {2}, kFilm, {1});
	c.AddForeignKey(104, "film_detail_film_id_fkey", kDetail, {1}, kFilm, {1});
	return c;
}

TEST(ValueSchema, ScalarsFollowToJson)
{
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kBoolean, "boolean"))),
	          json::parse(R"({"type":["boolean","null"]})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kBoolean, "boolean", true))),
	          json::parse(R"({"type":"boolean"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kInteger, "smallint", true))),
	          json::parse(R"({"type":"integer","format":"int16"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kInteger, "bigint", true))),
	          json::parse(R"({"type":"integer","format":"int64"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kNumber, "numeric(10,2)", true))),
	          json::parse(R"({"anyOf":[{"type":"number"},{"type":"string","enum":["NaN","Infinity","-Infinity"]}]})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kNumber, "double precision"))),
	          json::parse(R"({"anyOf":[{"type":"number","format":"double"},
	                          {"type":"string","enum":["NaN","Infinity","-Infinity"]},{"type":"null"}]})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kString, "character varying(20)", true))),
	          json::parse(R"({"type":"string"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kString, "uuid", true))),
	          json::parse(R"({"type":"string","format":"uuid"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kString, "interval"))),
	          json::parse(R"({"type":["string","null"],"format":"interval"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kDate, "date", true))),
	          json::parse(R"({"type":"string","format":"date"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kTimestampTz, "timestamp with time zone", true))),
	          json::parse(R"({"type":"string","format":"date-time"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kTimestamp, "timestamp without time zone", true))),
	          json::parse(R"({"type":"string","format":"timestamp without time zone"})"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kAny, "jsonb", true))), json::parse("{}"));
	EXPECT_EQ(json::parse(ValueSchema(Type(JsonKind::kAny, "jsonb"))), json::parse("{}"));
}

TEST(ValueSchema, EnumsArraysAndComposites)
{
	ColumnType mood = Type(JsonKind::kEnum, "mood");
	mood.labels = {"sad", "ok", "happy"};
	EXPECT_EQ(json::parse(ValueSchema(mood)),
	          json::parse(R"({"type":["string","null"],"enum":["sad","ok","happy",null]})"));
	mood.not_null = true;
	EXPECT_EQ(json::parse(ValueSchema(mood)), json::parse(R"({"type":"string","enum":["sad","ok","happy"]})"));

	ColumnType tags = Type(JsonKind::kArray, "integer[]", true);
	tags.element.push_back(Type(JsonKind::kInteger, "integer"));
	EXPECT_EQ(json::parse(ValueSchema(tags)),
	          json::parse(R"({"type":"array","items":{"type":["integer","null"],"format":"int32"}})"));

	ColumnType point = Type(JsonKind::kObject, "point2");
	point.attributes = {{"x", Type(JsonKind::kNumber, "real")}, {"label", mood}};
	EXPECT_EQ(json::parse(ValueSchema(point)), json::parse(R"({"type":["object","null"],"properties":{
	            "x":{"anyOf":[{"type":"number","format":"float"},{"type":"string","enum":["NaN","Infinity","-Infinity"]},{"type":"null"}]},
	            "label":{"type":"string","enum":["sad","ok","happy"]}},"required":["x","label"]})"));
}

TEST(DocumentSchema, FlatKeyAllOrChosenColumns)
{
	FakeCatalog c = Films();
	EXPECT_EQ(json::parse(DocumentSchema(FlatShape(c.Table(kFilm), {}), c)), json::parse(R"({"type":"object",
	            "properties":{"film_id":{"type":"integer","format":"int32"},"title":{"type":"string"},
	                          "language_id":{"type":["integer","null"],"format":"int32"}},
	            "required":["film_id","title","language_id"]})"));
	json chosen = json::parse(DocumentSchema(FlatShape(c.Table(kFilm), {2, 1}), c));
	EXPECT_EQ(chosen["required"], json::parse(R"(["title","film_id"])"));
	try {
		FlatShape(c.Table(kFilm), {7});
		FAIL() << "a missing column was accepted";
	} catch (const Error &e) {
		EXPECT_EQ(e.sqlstate(), "42703");
	}
}

TEST(DocumentSchema, NestedShapeObjectsArraysAndNullableToOne)
{
	FakeCatalog c = Films();
	ResolvedShape shape = ResolveShape(
	    ParseShape("film_id,title,lang:language(name),actors:actor(actor_id,name),detail:film_detail(synopsis)"), kFilm,
	    c);
	json schema = json::parse(DocumentSchema(shape, c));
	EXPECT_EQ(schema["required"], json::parse(R"(["film_id","title","lang","actors","detail"])"));
	EXPECT_EQ(schema["properties"]["lang"], json::parse(R"({"type":["object","null"],
	            "properties":{"name":{"type":"string"}},"required":["name"]})"));
	EXPECT_EQ(schema["properties"]["actors"], json::parse(R"({"type":"array","items":{"type":"object",
	            "properties":{"actor_id":{"type":"integer","format":"int64"},"name":{"type":["string","null"]}},
	            "required":["actor_id","name"]}})"));
	EXPECT_EQ(schema["properties"]["detail"]["type"], json::parse(R"(["object","null"])"));
}

TEST(IdDescription, OneColumnOrAnArray)
{
	FakeCatalog c = Films();
	EXPECT_EQ(json::parse(IdDescription(c.Table(kFilm), c)),
	          json::parse(R"({"columns":["film_id"],"schema":{"type":"integer","format":"int32"}})"));
	EXPECT_EQ(json::parse(IdDescription(c.Table(kFilmActor), c)), json::parse(R"({"columns":["actor_id","film_id"],
	            "schema":{"type":"array","prefixItems":[{"type":"integer","format":"int64"},
	                      {"type":"integer","format":"int32"}],"items":false,"minItems":2,"maxItems":2}})"));
	json key = json::parse(KeyDescription(FlatShape(c.Table(kFilm), {}), c.Table(kFilm), false, c));
	EXPECT_EQ(key["nested"], false);
	EXPECT_EQ(key["id"]["columns"], json::parse(R"(["film_id"])"));
	EXPECT_EQ(key["schema"]["type"], "object");
}

} // namespace
