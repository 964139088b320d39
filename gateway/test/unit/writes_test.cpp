// HTTP writes as ChangeSets, and store_apply's answers as statuses.
#include "core/writes.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace gw;
using json = nlohmann::json;

TEST(Writes, CreateWithoutIdUsesATemporaryId)
{
	WritePlan p = plan_write(WriteKind::Create, "items", "", R"({"name":"tea"})");
	ASSERT_TRUE(p.ok);
	EXPECT_TRUE(p.temporary);
	EXPECT_EQ(json::parse(p.changeset), json::parse(R"({"changes":[{"entityName":"items","op":"add",
	    "entities":[{"name":"tea","id":{"$tmp":"new"}}]}]})"));
	WriteOutcome o = read_apply_answer(
	    WriteKind::Create, p,
	    R"({"applied":true,"ids":{"new":7},"documents":{"items":{"deleted":[],"upserted":[{"id":7,"name":"tea"}]}}})",
	    "items");
	EXPECT_EQ(o.status, 201);
	EXPECT_EQ(o.id_text, "7");
	EXPECT_EQ(o.document, R"({"id":7,"name":"tea"})");
	EXPECT_EQ(read_apply_answer(WriteKind::Create, p, R"({"applied":true,"ids":{"new":7}})", "items").document, "")
	    << "a key the caller may not read has no document in the answer";
}

TEST(Writes, CreateWithId)
{
	WritePlan p = plan_write(WriteKind::Create, "items", "", R"({"id":"a b","name":"tea"})");
	ASSERT_TRUE(p.ok);
	EXPECT_FALSE(p.temporary);
	EXPECT_EQ(p.id_text, "a b");
	EXPECT_EQ(document_location("items", p.id_text), "/store/items/a%20b/");
	EXPECT_EQ(document_location("lines", "[1,2]"), "/store/lines/%5B1%2C2%5D/");
}

TEST(Writes, ReplaceUpdateDelete)
{
	WritePlan r = plan_write(WriteKind::Replace, "items", "5", R"({"name":"x"})");
	ASSERT_TRUE(r.ok);
	EXPECT_EQ(json::parse(r.changeset)["changes"][0]["op"], "upsert");
	EXPECT_EQ(json::parse(r.changeset)["changes"][0]["entities"][0]["id"], "5");
	EXPECT_TRUE(plan_write(WriteKind::Replace, "items", "5", R"({"id":5})").ok) << "the same id";
	EXPECT_FALSE(plan_write(WriteKind::Replace, "items", "5", R"({"id":6})").ok);
	WritePlan u = plan_write(WriteKind::Update, "lines", "[1,2]", R"({"qty":3})");
	ASSERT_TRUE(u.ok);
	EXPECT_EQ(json::parse(u.changeset)["changes"][0]["entities"][0],
	          json::parse(R"({"id":[1,2],"changes":{"qty":3}})"));
	WritePlan d = plan_write(WriteKind::Delete, "items", "5", "");
	ASSERT_TRUE(d.ok);
	EXPECT_EQ(json::parse(d.changeset)["changes"][0]["entities"], json::parse(R"(["5"])"));
	EXPECT_EQ(read_apply_answer(WriteKind::Delete, d, R"({"applied":true})").status, 204);
	EXPECT_EQ(read_apply_answer(WriteKind::Delete, d, R"({"applied":true,"unmatched":[{"change":0}]})").status, 404);
	EXPECT_EQ(read_apply_answer(WriteKind::Update, u, R"({"applied":true})").status, 200);
	EXPECT_EQ(read_apply_answer(WriteKind::Update, u, R"({"applied":true})").id_text, "[1,2]");
}

TEST(Writes, ARowATriggerSkippedIsNoContent)
{
	WritePlan c = plan_write(WriteKind::Create, "items", "", R"({"id":9,"name":"x"})");
	const char *skipped = R"({"applied":true,"skipped":[{"change":0,"index":0,"entityName":"items","id":9}]})";
	WriteOutcome o = read_apply_answer(WriteKind::Create, c, skipped, "items");
	EXPECT_EQ(o.status, 204) << "nothing was created: no 201";
	EXPECT_EQ(o.id_text, "") << "no Location for a row that does not exist";
	WritePlan r = plan_write(WriteKind::Replace, "items", "9", R"({"name":"x"})");
	EXPECT_EQ(read_apply_answer(WriteKind::Replace, r, skipped, "items").status, 204);
	EXPECT_EQ(read_apply_answer(WriteKind::Create, c, R"({"applied":true,"skipped":[]})", "items").status, 201);
}

TEST(Writes, ChangeSetsAndConflicts)
{
	WritePlan c = plan_write(WriteKind::ChangeSet, "", "", R"({"changes":[]})");
	ASSERT_TRUE(c.ok);
	EXPECT_EQ(read_apply_answer(WriteKind::ChangeSet, c, R"({"applied":true})").status, 200);
	EXPECT_EQ(read_apply_answer(WriteKind::ChangeSet, c, R"({"applied":false,"conflicts":[]})").status, 409);
	EXPECT_EQ(read_apply_answer(WriteKind::Update, c, R"({"applied":false,"conflicts":[]})").status, 409);
}

TEST(Writes, MalformedBodies)
{
	for (const char *b : {"", "[]", "1", "{", "\"x\""})
		EXPECT_FALSE(plan_write(WriteKind::Create, "items", "", b).ok) << b;
	EXPECT_FALSE(plan_write(WriteKind::ChangeSet, "", "", "[1]").ok);
}

TEST(Writes, InvalidUtf8IsRefusedNotThrown)
{
	EXPECT_FALSE(plan_write(WriteKind::Replace, "items", "\xff", "{}").ok);
	EXPECT_FALSE(plan_write(WriteKind::Delete, "items", "\xff", "").ok);
	EXPECT_FALSE(plan_write(WriteKind::Create,
	                        "it\xff"
	                        "ems",
	                        "", "{}")
	                 .ok);
	EXPECT_THROW(id_json_of_text("\xff"), nlohmann::json::exception);
}

TEST(Writes, IdConversions)
{
	EXPECT_EQ(id_json_of_text("[1,\"a\"]"), "[1,\"a\"]");
	EXPECT_EQ(id_json_of_text("12"), "\"12\"");
	EXPECT_EQ(id_json_of_text("[oops"), "\"[oops\"");
	EXPECT_EQ(id_text_of_json("12"), "12");
	EXPECT_EQ(id_text_of_json("\"x\""), "x");
	EXPECT_EQ(id_text_of_json("[1,2]"), "[1,2]");
}

// The key was put in the Location URL as it is: '/', '?', '%', spaces or non-ASCII made another URL.
TEST(Writes, LocationEncodesTheKeyAndTheId)
{
	EXPECT_EQ(document_location("a/b?c", "x/y?z"), "/store/a%2Fb%3Fc/x%2Fy%3Fz/");
	EXPECT_EQ(document_location("50% off", "caf\xc3\xa9 #1"), "/store/50%25%20off/caf%C3%A9%20%231/");
	EXPECT_EQ(document_location("my-key_1.v~2", "A-z_0.9~"), "/store/my-key_1.v~2/A-z_0.9~/");
}

TEST(Writes, JsonBodiesOnly)
{
	for (const char *t :
	     {"", "application/json", "application/json; charset=utf-8", "Application/JSON",
	      " application/json ;charset=UTF-8", "application/merge-patch+json", "application/vnd.api+json"})
		EXPECT_EQ(unsupported_body(t, "", true), "") << t;
	for (const char *t : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
	                      "application/jsonx", "text/json", "application/+json", "application", "json"})
		EXPECT_NE(unsupported_body(t, "", true), "") << t;
	EXPECT_EQ(unsupported_body("text/plain", "", false), "") << "no body: nothing to read";
	EXPECT_EQ(unsupported_body("text/plain", "", true),
	          "Content-Type \"text/plain\" is not accepted: the body must be application/json");
}

TEST(Writes, NoContentEncodingButIdentity)
{
	EXPECT_EQ(unsupported_body("application/json", "identity", true), "");
	EXPECT_EQ(unsupported_body("application/json", " Identity ", true), "");
	for (const char *e : {"gzip", "deflate", "br", "gzip, identity", "x-gzip"}) {
		EXPECT_NE(unsupported_body("application/json", e, true), "") << e;
		EXPECT_NE(unsupported_body("", e, false), "") << e << ": refused even without a body";
	}
}
