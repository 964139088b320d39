// Unit tests: parsing a ChangeSet (shape, ops, $tmp/$ref order, replays) and planning statements.
#include "core/changeset.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace store::core;

namespace {

// The SQLSTATE ParseChangeSet throws for text, or "" when it parses.
std::string
ParseState(const std::string &text)
{
	try {
		ParseChangeSet(text);
	} catch (const Error &e) {
		return e.sqlstate();
	}
	return "";
}

// The message ParseChangeSet throws for text.
std::string
ParseMessage(const std::string &text)
{
	try {
		ParseChangeSet(text);
	} catch (const Error &e) {
		return e.what();
	}
	return "";
}

// orders(id bigint default, customer_id, status), chosen columns id, customer_id, status; secret unchosen.
ApplyTable
Orders()
{
	ApplyTable table;
	table.key = "orders";
	table.relation = "\"public\".\"orders\"";
	table.columns = {{"id", true, true, "OPERATOR(pg_catalog.=)", "bigint"},
	                 {"customer_id", false, true, "", "integer"},
	                 {"status", false, true, "", "text"},
	                 {"secret", false, false, "", "text"}};
	table.primary_key = {0};
	return table;
}

// lines(order_id, line_no) composite key, qty.
ApplyTable
Lines()
{
	ApplyTable table;
	table.key = "lines";
	table.relation = "\"public\".\"lines\"";
	table.columns = {{"order_id", true, true, "OPERATOR(pg_catalog.=)", "bigint"},
	                 {"line_no", true, true, "OPERATOR(pg_catalog.=)", "integer"},
	                 {"qty", false, true, "", "integer"}};
	table.primary_key = {0, 1};
	return table;
}

// The SQLSTATE PlanEntity throws for the first entity of the first change of text.
std::string
PlanState(const ApplyTable &table, const std::string &text)
{
	ChangeSet set = ParseChangeSet(text);
	try {
		PlanEntity(table, set.changes[0].op, set.changes[0].entities[0], 0, 0);
	} catch (const Error &e) {
		return e.sqlstate();
	}
	return "";
}

} // namespace

TEST(Json, KeepsNumbersAndOrderExactly)
{
	std::string text = R"({"b":1.60,"a":[12345678901234567890.123,-0,1e5,true,null],"s":"\u00e9\n\"x\""})";
	EXPECT_EQ(RenderJson(ParseJson(text)),
	          R"({"b":1.60,"a":[12345678901234567890.123,-0,1e5,true,null],"s":"é\u000a\"x\""})");
	EXPECT_EQ(ParseJson(R"("\ud83d\ude00")").text, "\xF0\x9F\x98\x80");
}

TEST(Json, RefusesMalformedText)
{
	for (const char *bad : {"", "{", "[1,]", "{\"a\"}", "01", "1.", "tru", "\"\\ud800\"", "\"a", "{} x", "[1 2]",
	                        "\"\\x\"", "-", "1e", "{\"a\":1,}"}) {
		EXPECT_THROW(ParseJson(bad), Error) << bad;
	}
	std::string deep(kMaxJsonDepth + 5, '[');
	EXPECT_THROW(ParseJson(deep), Error);
}

TEST(ChangeSet, ParsesEveryOpInAnyCase)
{
	ChangeSet set = ParseChangeSet(R"({"tag":{"t":1},"clientId":"c-9","mutationId":42,"changes":[
	  {"op":"Add","entityName":"orders","entities":[{"id":{"$tmp":"o1"},"status":"open"}]},
	  {"op":"UPDATE","entityName":"orders","entities":[{"id":3,"changes":{"status":"x"},"$expect":{"status":"open"}}]},
	  {"op":"upsert","entityName":"orders","entities":[{"id":7,"status":"y"}]},
	  {"op":"delete","entityName":"lines","entities":[[1,2],{"id":[1,3],"$expect":{"qty":1}},{"$ref":"o1"}]}]})");
	ASSERT_EQ(set.changes.size(), 4u);
	EXPECT_EQ(set.changes[0].op, ChangeOp::kAdd);
	EXPECT_EQ(set.changes[0].entities[0].tmp, "o1");
	EXPECT_EQ(set.changes[0].entities[0].tmp_field, "id");
	EXPECT_EQ(set.changes[1].op, ChangeOp::kUpdate);
	EXPECT_EQ(RenderJson(*set.changes[1].entities[0].expect), R"({"status":"open"})");
	EXPECT_EQ(set.changes[2].op, ChangeOp::kUpsert);
	EXPECT_EQ(set.changes[3].op, ChangeOp::kDelete);
	EXPECT_EQ(RenderJson(*set.changes[3].entities[0].id), "[1,2]");
	EXPECT_EQ(set.changes[3].entities[2].refs, std::vector<std::string>{"o1"});
	EXPECT_EQ(*set.client_id, "c-9");
	EXPECT_EQ(*set.mutation_id, 42);
	EXPECT_EQ(RenderJson(*set.tag), R"({"t":1})");
}

TEST(ChangeSet, RefusesMalformedShapesAs22023)
{
	for (const char *bad :
	     {"[]",
	      "{}",
	      R"({"changes":{}})",
	      R"({"changes":[1]})",
	      R"({"changes":[],"x":1})",
	      R"({"changes":[{"op":"merge","entityName":"a","entities":[]}]})",
	      R"({"changes":[{"op":1,"entityName":"a","entities":[]}]})",
	      R"({"changes":[{"op":"add","entityName":"","entities":[]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":{}}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[],"extra":1}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[5]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[{"x":1,"$expect":{}}]}]})",
	      R"({"changes":[{"op":"update","entityName":"a","entities":[{"id":1}]}]})",
	      R"({"changes":[{"op":"update","entityName":"a","entities":[{"id":1,"changes":{},"x":2}]}]})",
	      R"({"changes":[{"op":"update","entityName":"a","entities":[{"id":1,"changes":{},"$expect":3}]}]})",
	      R"({"changes":[{"op":"delete","entityName":"a","entities":[{"x":1}]}]})",
	      R"({"changes":[{"op":"upsert","entityName":"a","entities":[{"id":{"$tmp":"t"}}]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[{"id":{"$tmp":"t"},"x":{"$tmp":"u"}}]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[{"id":{"$tmp":1}}]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[{"id":{"$tmp":"t","y":1}}]}]})",
	      R"({"changes":[{"op":"add","entityName":"a","entities":[{"x":[{"$tmp":"t"}]}]}]})",
	      R"({"changes":[],"clientId":"c"})",
	      R"({"changes":[],"mutationId":1})",
	      R"({"changes":[],"clientId":"","mutationId":1})",
	      R"({"changes":[],"clientId":"c","mutationId":-1})",
	      R"({"changes":[],"clientId":"c","mutationId":1.5})",
	      R"({"changes":[],"clientId":"c","mutationId":9223372036854775808})"})
		EXPECT_EQ(ParseState(bad), "22023") << bad;
	EXPECT_EQ(ParseState(R"({"changes":[],"clientId":"c","mutationId":9223372036854775807})"), "");
}

TEST(ChangeSet, RefsMustNameAnEarlierTmp)
{
	const char *ok = R"({"changes":[
	  {"op":"add","entityName":"orders","entities":[{"id":{"$tmp":"o1"}}]},
	  {"op":"add","entityName":"lines","entities":[{"order_id":{"$ref":"o1"},"line_no":1,"note":{"a":[{"$ref":"o1"}]}}]}]})";
	EXPECT_EQ(ParseState(ok), "");
	const char *later = R"({"changes":[
	  {"op":"add","entityName":"lines","entities":[{"order_id":{"$ref":"o1"},"line_no":1}]},
	  {"op":"add","entityName":"orders","entities":[{"id":{"$tmp":"o1"}}]}]})";
	EXPECT_EQ(ParseState(later), "22023");
	EXPECT_NE(ParseMessage(later).find("change 0, entity 0"), std::string::npos) << ParseMessage(later);
	const char *self =
	    R"({"changes":[{"op":"add","entityName":"a","entities":[{"id":{"$tmp":"o1"},"p":{"$ref":"o1"}}]}]})";
	EXPECT_EQ(ParseState(self), "22023");
	const char *unknown = R"({"changes":[{"op":"delete","entityName":"a","entities":[{"$ref":"zz"}]}]})";
	EXPECT_EQ(ParseState(unknown), "22023");
	const char *twice =
	    R"({"changes":[{"op":"add","entityName":"a","entities":[{"id":{"$tmp":"t"}},{"id":{"$tmp":"t"}}]}]})";
	EXPECT_EQ(ParseState(twice), "22023");
	EXPECT_NE(ParseMessage(twice).find("change 0, entity 1"), std::string::npos);
}

TEST(ChangeSet, RefusesAClientIdTooLongForItsRecord)
{
	std::string ok(kMaxClientIdBytes, 'c');
	std::string too_long(kMaxClientIdBytes + 1, 'c');
	EXPECT_EQ(ParseState(R"({"changes":[],"clientId":")" + ok + R"(","mutationId":1})"), "");
	EXPECT_EQ(ParseState(R"({"changes":[],"clientId":")" + too_long + R"(","mutationId":1})"), "22023");
}

TEST(ChangeSet, ResolvesRefsAnywhere)
{
	std::map<std::string, JsonValue> ids{{"o1", ParseJson("1001")}};
	EXPECT_EQ(RenderJson(ResolveRefs(ParseJson(R"({"a":{"$ref":"o1"},"b":[1,{"$ref":"o1"}]})"), ids)),
	          R"({"a":1001,"b":[1,1001]})");
}

TEST(Plan, AddWithTmpLeavesTheKeyToItsDefault)
{
	ChangeSet set = ParseChangeSet(
	    R"({"changes":[{"op":"add","entityName":"orders","entities":[{"id":{"$tmp":"o1"},"status":"open"}]}]})");
	EntityPlan plan = PlanEntity(Orders(), ChangeOp::kAdd, set.changes[0].entities[0], 0, 0);
	ASSERT_TRUE(plan.write);
	EXPECT_FALSE(plan.id);
	EXPECT_EQ(plan.write->sql, "INSERT INTO \"public\".\"orders\" AS x (\"status\") SELECT r.\"status\" FROM "
	                           "pg_catalog.jsonb_to_record($1::pg_catalog.jsonb) AS r(\"status\" text) "
	                           "RETURNING x.\"id\"");
	EXPECT_EQ(plan.write->render, "SELECT pg_catalog.to_jsonb($1)::pg_catalog.text");
	EXPECT_EQ(plan.write->values, R"({"status":"open"})");
}

TEST(Plan, UpsertUpdatesTheGivenFields)
{
	ChangeSet set =
	    ParseChangeSet(R"({"changes":[{"op":"upsert","entityName":"lines","entities":[{"id":[1,2],"qty":3}]}]})");
	EntityPlan plan = PlanEntity(Lines(), ChangeOp::kUpsert, set.changes[0].entities[0], 0, 0);
	EXPECT_EQ(plan.write->values, R"({"order_id":1,"line_no":2,"qty":3})");
	EXPECT_NE(plan.write->sql.find("ON CONFLICT (\"order_id\", \"line_no\") DO UPDATE SET \"qty\" = EXCLUDED.\"qty\""),
	          std::string::npos)
	    << plan.write->sql;
	// no RETURNING: an upsert names its row, and RETURNING would need SELECT on the key
	EXPECT_EQ(plan.write->sql.find("RETURNING"), std::string::npos) << plan.write->sql;
	EXPECT_TRUE(plan.write->render.empty());
	EXPECT_EQ(RenderJson(*plan.id), "[1,2]");
}

TEST(Plan, UpdateAndDeleteMatchTheKeyAndCheckExpectations)
{
	ChangeSet set = ParseChangeSet(R"({"changes":[{"op":"update","entityName":"orders","entities":[
	  {"id":3,"changes":{"status":"x"},"$expect":{"status":"o'k"}}]}]})");
	EntityPlan plan = PlanEntity(Orders(), ChangeOp::kUpdate, set.changes[0].entities[0], 0, 0);
	// the changes and the key in one record
	EXPECT_EQ(plan.write->values, R"({"status":"x","id":3})");
	EXPECT_EQ(plan.write->key, "");
	EXPECT_NE(plan.write->sql.find("UPDATE \"public\".\"orders\" AS x SET \"status\" = r.\"status\""),
	          std::string::npos);
	EXPECT_NE(plan.write->sql.find("FROM pg_catalog.jsonb_to_record($1::pg_catalog.jsonb) AS r(\"status\" text, "
	                               "\"id\" bigint) WHERE x.\"id\" OPERATOR(pg_catalog.=) r.\"id\""),
	          std::string::npos)
	    << plan.write->sql;
	ASSERT_TRUE(plan.check);
	// the check returns the expected columns; render compares them, as documents show them, with the values
	EXPECT_NE(plan.check->sql.find("SELECT x.\"status\" FROM"), std::string::npos) << plan.check->sql;
	EXPECT_EQ(plan.check->render,
	          "SELECT pg_catalog.jsonb_build_array($1) OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb");
	EXPECT_EQ(plan.check->render_value, R"(["o'k"])");
	EXPECT_NE(plan.check->sql.find("FOR UPDATE OF x"), std::string::npos);
	ChangeSet del = ParseChangeSet(R"({"changes":[{"op":"delete","entityName":"lines","entities":[[1,2]]}]})");
	EntityPlan delete_plan = PlanEntity(Lines(), ChangeOp::kDelete, del.changes[0].entities[0], 0, 0);
	EXPECT_EQ(delete_plan.write->key, R"({"order_id":1,"line_no":2})");
	EXPECT_EQ(delete_plan.write->sql.rfind("DELETE FROM \"public\".\"lines\" AS x USING", 0), 0u);
}

TEST(Plan, RefusesFieldsTheKeyDoesNotHold)
{
	EXPECT_EQ(PlanState(Orders(), R"({"changes":[{"op":"add","entityName":"o","entities":[{"nope":1}]}]})"), "42703");
	EXPECT_EQ(PlanState(Orders(), R"({"changes":[{"op":"add","entityName":"o","entities":[{"secret":1}]}]})"), "42703");
	EXPECT_EQ(
	    PlanState(Orders(),
	              R"({"changes":[{"op":"update","entityName":"o","entities":[{"id":1,"changes":{"items":[]}}]}]})"),
	    "42703");
	EXPECT_EQ(
	    PlanState(
	        Orders(),
	        R"({"changes":[{"op":"update","entityName":"o","entities":[{"id":1,"changes":{},"$expect":{"zz":1}}]}]})"),
	    "42703");
	// Key columns are not updated; ids must have the key's shape.
	EXPECT_EQ(PlanState(Orders(),
	                    R"({"changes":[{"op":"update","entityName":"o","entities":[{"id":1,"changes":{"id":2}}]}]})"),
	          "22023");
	EXPECT_EQ(PlanState(Lines(), R"({"changes":[{"op":"delete","entityName":"l","entities":[1]}]})"), "22023");
	EXPECT_EQ(PlanState(Lines(), R"({"changes":[{"op":"delete","entityName":"l","entities":[[1,2,3]]}]})"), "22023");
	EXPECT_EQ(PlanState(Orders(), R"({"changes":[{"op":"delete","entityName":"o","entities":[[1]]}]})"), "22023");
	EXPECT_EQ(PlanState(Orders(), R"({"changes":[{"op":"delete","entityName":"o","entities":[null]}]})"), "22023");
	EXPECT_EQ(PlanState(Orders(), R"({"changes":[{"op":"upsert","entityName":"o","entities":[{"status":"x"}]}]})"),
	          "22023");
	EXPECT_EQ(
	    PlanState(Lines(), R"({"changes":[{"op":"add","entityName":"l","entities":[{"id":[1,2],"order_id":1}]}]})"),
	    "22023");
	EXPECT_EQ(
	    PlanState(Orders(), R"({"changes":[{"op":"add","entityName":"o","entities":[{"status":{"$tmp":"t"}}]}]})"),
	    "22023");
}

TEST(Plan, KeyColumnsTakeOneValue)
{
	ApplyTable table = Orders();
	EXPECT_EQ(PlanState(table, R"({"changes":[{"op":"upsert","entityName":"o","entities":[{"id":[1,2]}]}]})"), "22023");
	EXPECT_EQ(PlanState(table, R"({"changes":[{"op":"upsert","entityName":"o","entities":[{"id":null}]}]})"), "22023");
	EXPECT_EQ(PlanState(table, R"({"changes":[{"op":"add","entityName":"o","entities":[{"id":{"a":1}}]}]})"), "22023");
	EXPECT_EQ(
	    PlanState(Lines(), R"({"changes":[{"op":"add","entityName":"l","entities":[{"order_id":[1],"line_no":1}]}]})"),
	    "22023");
	EXPECT_EQ(PlanState(table, R"({"changes":[{"op":"upsert","entityName":"o","entities":[{"id":"7"}]}]})"), "");
}

// After a conflict, errors of the batch's data end it with its conflicts; bad values and the session's raise.
TEST(ChangeSet, ErrorsAfterAConflict)
{
	for (const char *data : {"23505", "23503", "23514", "P0001", "42501", "23502"})
		EXPECT_FALSE(RaisesAfterConflict(data)) << data;
	for (const char *session : {"22P02", "22003", "22007", "22023", "40P01", "40001", "57014", "57P01", "53200",
	                            "54001", "55P03", "25006", "XX000", "08006", "58030", "F0000"})
		EXPECT_TRUE(RaisesAfterConflict(session)) << session;
	EXPECT_TRUE(RaisesAfterConflict(""));
	EXPECT_TRUE(RaisesAfterConflict("235"));
}
