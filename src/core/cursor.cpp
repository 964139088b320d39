// store core: parsing, rendering and reasoning about version cursors.
#include "core/cursor.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <limits>
#include "core/postgres_free.hpp" // last: the core never sees a PostgreSQL header

namespace store::core {

namespace {

constexpr const char *kCursorHint =
    "pass a version exactly as store_snapshot(), store_history() or store_changes() returned it, or '0'";

// Quotes a client's text for an error message, shortened so a huge input stays readable.
std::string
QuoteForMessage(std::string_view text)
{
	constexpr std::size_t kShown = 60;
	std::string shown(text.substr(0, kShown));
	if (text.size() > kShown)
		shown += "...";
	return "\"" + shown + "\"";
}

[[noreturn]] void
Malformed(std::string_view text)
{
	throw Error(sqlstate::kInvalidTextRepresentation, "malformed version " + QuoteForMessage(text), kCursorHint);
}

// Parses a non-empty run of decimal digits that fits 64 bits; nullopt-like false on failure.
bool
ParseXid(std::string_view digits, std::uint64_t *value)
{
	if (digits.empty() || digits.size() > 20)
		return false;
	std::uint64_t result = 0;
	for (char c : digits) {
		if (c < '0' || c > '9')
			return false;
		std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
		if (result > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
			return false;
		result = result * 10 + digit;
	}
	*value = result;
	return true;
}

// True for exactly kStoreIdLength lower-case hex digits.
bool
IsStoreId(std::string_view text)
{
	return text.size() == kStoreIdLength && std::all_of(text.begin(), text.end(), [](char c) {
		       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	       });
}

// Splits text at every separator (keeping empty fields).
std::vector<std::string_view>
Split(std::string_view text, char separator)
{
	std::vector<std::string_view> fields;
	std::size_t start = 0;
	for (std::size_t i = 0; i <= text.size(); i++) {
		if (i == text.size() || text[i] == separator) {
			fields.push_back(text.substr(start, i - start));
			start = i + 1;
		}
	}
	return fields;
}

// Parses the in-progress list: ascending ids within [xmin, xmax).
bool
ParseInProgress(std::string_view list, Cursor *cursor)
{
	if (list.empty())
		return true;
	for (std::string_view field : Split(list, ',')) {
		std::uint64_t xid;
		if (!ParseXid(field, &xid) || xid < cursor->xmin || xid >= cursor->xmax)
			return false;
		if (!cursor->xip.empty() && xid <= cursor->xip.back())
			return false;
		cursor->xip.push_back(xid);
	}
	return true;
}

} // namespace

Cursor
ParseCursor(std::string_view text)
{
	Cursor cursor;
	if (text == "0")
		return cursor;
	std::vector<std::string_view> fields = Split(text, ':');
	if (fields.size() != 4 || !IsStoreId(fields[0]) || !ParseXid(fields[1], &cursor.xmin) ||
	    !ParseXid(fields[2], &cursor.xmax) || cursor.xmin > cursor.xmax || !ParseInProgress(fields[3], &cursor))
		Malformed(text);
	cursor.store_id = std::string(fields[0]);
	return cursor;
}

void
CheckCursorStore(const Cursor &cursor, std::string_view store_id)
{
	if (!cursor.store_id.empty() && cursor.store_id != store_id)
		throw Error(sqlstate::kInvalidParameterValue,
		            "version belongs to another store (" + cursor.store_id + ", this store is " +
		                std::string(store_id) + ")",
		            "the version comes from another database or from before a restore: start again from "
		            "store_snapshot()");
}

std::string
FormatCursor(const Cursor &cursor)
{
	if (cursor.store_id.empty())
		return "0";
	std::string text = cursor.store_id + ":" + std::to_string(cursor.xmin) + ":" + std::to_string(cursor.xmax) + ":";
	for (std::size_t i = 0; i < cursor.xip.size(); i++)
		text += (i ? "," : "") + std::to_string(cursor.xip[i]);
	return text;
}

std::string
ContentMark(const Cursor &cursor, std::uint64_t last_writer, std::uint64_t compacted)
{
	std::string text = cursor.store_id + ":" + std::to_string(last_writer) + ":" + std::to_string(compacted) + ":";
	const std::uint64_t bound = std::max(last_writer, compacted);
	const char *separator = "";
	for (std::uint64_t xid : cursor.xip)
		if (xid < bound) {
			text += separator + std::to_string(xid);
			separator = ",";
		}
	return text;
}

bool
IsVisible(const Cursor &cursor, std::uint64_t xid)
{
	if (xid < cursor.xmin)
		return true;
	if (xid >= cursor.xmax)
		return false;
	return !std::binary_search(cursor.xip.begin(), cursor.xip.end(), xid);
}

Cursor
SeeingAlso(Cursor cursor, std::uint64_t xid)
{
	for (std::uint64_t running = cursor.xmax; running < xid; running++)
		cursor.xip.push_back(running);
	cursor.xmax = std::max(cursor.xmax, xid + 1);
	cursor.xip.erase(std::remove(cursor.xip.begin(), cursor.xip.end(), xid), cursor.xip.end());
	return cursor;
}

bool
CoversHorizon(const Cursor &cursor, std::uint64_t horizon)
{
	if (horizon == 0)
		return true;
	if (horizon >= cursor.xmax)
		return false;
	return cursor.xip.empty() || cursor.xip.front() > horizon;
}

Cursor
CursorOfSnapshot(std::string store_id, std::uint64_t xmin, std::uint64_t xmax, std::vector<std::uint64_t> running,
                 std::uint64_t own, Own own_is)
{
	if (own != 0 && own_is == Own::kRunning && own >= xmin && own < xmax)
		running.push_back(own);
	Cursor cursor;
	cursor.store_id = std::move(store_id);
	cursor.xmin = xmin;
	cursor.xmax = xmax;
	std::sort(running.begin(), running.end());
	running.erase(std::unique(running.begin(), running.end()), running.end());
	cursor.xip = std::move(running);
	return own != 0 && own_is == Own::kFinished ? SeeingAlso(std::move(cursor), own) : cursor;
}

bool
IsAhead(const Cursor &cursor, const Cursor &current)
{
	if (cursor.xmax > current.xmax)
		return true;
	return std::any_of(current.xip.begin(), current.xip.end(), [&](std::uint64_t x) { return IsVisible(cursor, x); });
}

Cursor
PageCursor(const Cursor &client, const Cursor &current, std::uint64_t page_end)
{
	page_end = std::min(page_end, current.xmax);
	Cursor page;
	page.store_id = current.store_id;
	page.xmax = std::max(page_end, client.xmax);
	for (std::uint64_t xid : current.xip)
		if (xid < page.xmax)
			page.xip.push_back(xid);
	for (std::uint64_t xid : client.xip)
		if (xid >= page_end)
			page.xip.push_back(xid);
	std::sort(page.xip.begin(), page.xip.end());
	page.xip.erase(std::unique(page.xip.begin(), page.xip.end()), page.xip.end());
	page.xmin = page.xip.empty() ? page.xmax : page.xip.front();
	return page;
}

CursorReading
ReadCursor(std::string_view after, const Cursor &current, std::uint64_t next_xid, const Horizon &horizon)
{
	Cursor cursor = ParseCursor(after);
	CheckCursorStore(cursor, current.store_id);
	if (cursor.xmax > next_xid)
		throw Error(sqlstate::kInvalidParameterValue, "version " + QuoteForMessage(after) + " is ahead of this store",
		            "the version was not issued by this database; start again from store_snapshot()");
	bool too_old = cursor.store_id.empty() ? horizon.ever_compacted : !CoversHorizon(cursor, horizon.compacted_xid);
	return {cursor, too_old, !cursor.store_id.empty() && IsAhead(cursor, current)};
}

} // namespace store::core
