// libFuzzer target for the core's parsers of client input: version cursors, store keys,
// document shapes and store_apply change sets. Any input must either parse or throw store::core::Error; a parsed cursor
// or shape must round-trip.
#include "core/changeset.hpp"
#include "core/cursor.hpp"
#include "core/error.hpp"
#include "core/key.hpp"
#include "core/shape.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace store::core;

// Parses text as a cursor and checks the round trip and the reading rules.
void
FuzzCursor(std::string_view text)
{
	Cursor cursor;
	try {
		cursor = ParseCursor(text);
	} catch (const Error &) {
		return;
	}
	if (FormatCursor(ParseCursor(FormatCursor(cursor))) != FormatCursor(cursor))
		std::abort();
	Cursor current = CursorOfSnapshot(cursor.store_id.empty() ? "0a1b2c3d" : cursor.store_id, cursor.xmax,
	                                  cursor.xmax + 5, {cursor.xmax + 1}, 0);
	try {
		ReadCursor(text, current, cursor.xmax + 10, Horizon{cursor.xmin, true});
	} catch (const Error &) {
	}
	for (std::uint64_t xid : cursor.xip)
		if (IsVisible(cursor, xid))
			std::abort();
}

// Parses text as a shape and checks the limits and the round trip through the canonical text.
void
FuzzShape(std::string_view text)
{
	Shape shape;
	try {
		shape = ParseShape(text);
	} catch (const Error &e) {
		if (e.sqlstate() != "42601" && e.sqlstate() != "22023")
			std::abort();
		return;
	}
	if (shape.items.empty() || ShapeDepth(shape) > kMaxShapeDepth)
		std::abort();
	std::string canonical = RenderShape(shape);
	Shape again = ParseShape(canonical); // throws (and so crashes the fuzzer) if the canonical text is refused
	if (again != shape || RenderShape(again) != canonical)
		std::abort();
}

// Parses text as a change set: it parses or throws a 22023/42703 Error; a parsed one plans every
// entity against a two-column table (or throws Error), and its JSON values round-trip.
void
FuzzChangeSet(std::string_view text)
{
	ChangeSet set;
	try {
		set = ParseChangeSet(text);
	} catch (const Error &e) {
		if (e.sqlstate() != "22023")
			std::abort();
		return;
	}
	JsonValue root = ParseJson(text);
	if (ParseJson(RenderJson(root)) != root)
		std::abort();
	ApplyTable table{"t",
	                 "\"s\".\"t\"",
	                 {{"id", true, true, "OPERATOR(pg_catalog.=)", "integer"}, {"v", false, true, "", "text"}},
	                 {0}};
	std::map<std::string, JsonValue> ids;
	for (std::size_t c = 0; c < set.changes.size(); c++)
		for (std::size_t e = 0; e < set.changes[c].entities.size(); e++) {
			ChangeEntity entity = set.changes[c].entities[e];
			try {
				entity.fields = ResolveRefs(entity.fields, ids);
				if (entity.id)
					entity.id = ResolveRefs(*entity.id, ids);
				PlanEntity(table, set.changes[c].op, entity, c, e);
			} catch (const Error &error) {
				if (error.sqlstate() != "22023" && error.sqlstate() != "42703")
					std::abort();
			}
			if (!entity.tmp.empty())
				ids[entity.tmp] = JsonValue{JsonValue::Kind::kNumber, false, "1", {}, {}};
		}
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	FuzzCursor(text);
	FuzzShape(text);
	FuzzChangeSet(text);
	try {
		CheckKey(text);
	} catch (const Error &) {
	}
	return 0;
}
