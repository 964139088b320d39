// libFuzzer target for the core's parsers of client input: version cursors, store keys and
// document shapes. Any input must either parse or throw store::core::Error; a parsed cursor or
// shape must round-trip.
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

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	FuzzCursor(text);
	FuzzShape(text);
	try {
		CheckKey(text);
	} catch (const Error &) {
	}
	return 0;
}
