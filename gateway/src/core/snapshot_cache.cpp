// The GET /store/ cache: a list in recency order, evicted by bytes; gzip answers are joined from a cached
// head (ending in a full flush, so the tail's blocks start afresh) and a tail compressed per answer.
#include "core/snapshot_cache.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <zlib.h>

namespace gw {

namespace {

// Deflates text with windowBits (negative: raw deflate; 16+: gzip) and flush, returning the output.
std::string
deflate_with(const std::string &text, int window_bits, int flush)
{
	z_stream z{};
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		throw std::runtime_error("deflateInit2 failed");
	std::string out(deflateBound(&z, uLong(text.size())) + 64, '\0');
	z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
	z.avail_in = uInt(text.size());
	z.next_out = reinterpret_cast<Bytef *>(out.data());
	z.avail_out = uInt(out.size());
	int rc = deflate(&z, flush);
	out.resize(out.size() - z.avail_out);
	deflateEnd(&z);
	if (rc == Z_STREAM_ERROR || z.avail_in != 0)
		throw std::runtime_error("deflate failed");
	return out;
}

// Appends a 32-bit little-endian number (the gzip trailer's fields).
void
append_le32(std::string &out, std::uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out.push_back(char((v >> (8 * i)) & 0xff));
}

} // namespace

std::string
version_tail(const std::string &version)
{
	return "\"version\":" + nlohmann::json(version).dump() + "}";
}

std::string
gzip_head(const std::string &text, std::uint32_t &crc)
{
	crc = std::uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(text.data()), uInt(text.size())));
	return deflate_with(text, 15 + 16, Z_FULL_FLUSH); // a gzip header, then blocks; no trailer yet
}

std::string
gzip_tail(const CachedSnapshot &entry, const std::string &tail)
{
	std::string out = deflate_with(tail, -15, Z_FINISH);
	auto tail_crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(tail.data()), uInt(tail.size()));
	append_le32(out, std::uint32_t(crc32_combine(entry.crc, tail_crc, z_off_t(tail.size()))));
	append_le32(out, std::uint32_t(entry.head->size() + tail.size())); // ISIZE: the length modulo 2^32
	return out;
}

CachedSnapshot *
SnapshotCache::find(const std::string &tag)
{
	for (auto it = entries_.begin(); it != entries_.end(); ++it)
		if (it->tag == tag) {
			entries_.splice(entries_.begin(), entries_, it);
			return &entries_.front();
		}
	return nullptr;
}

bool
SnapshotCache::insert(const std::string &tag, std::string text, const std::string &version)
{
	std::string tail = version_tail(version);
	if (text.size() > max_bytes_ || text.size() < tail.size() ||
	    text.compare(text.size() - tail.size(), tail.size(), tail) != 0)
		return false;
	text.resize(text.size() - tail.size());
	for (auto it = entries_.begin(); it != entries_.end(); ++it)
		if (it->tag == tag) {
			bytes_ -= it->head->size() + (it->gzip_head ? it->gzip_head->size() : 0);
			entries_.erase(it);
			break;
		}
	bytes_ += text.size();
	entries_.push_front({tag, std::make_shared<const std::string>(std::move(text)), nullptr, 0});
	evict();
	return true;
}

void
SnapshotCache::ensure_gzip(CachedSnapshot &entry)
{
	if (entry.gzip_head)
		return;
	entry.gzip_head = std::make_shared<const std::string>(gzip_head(*entry.head, entry.crc));
	bytes_ += entry.gzip_head->size();
	evict();
}

// Drops the least recently used entries until the cache fits (the newest one always stays).
void
SnapshotCache::evict()
{
	while (bytes_ > max_bytes_ && entries_.size() > 1) {
		auto &last = entries_.back();
		bytes_ -= last.head->size() + (last.gzip_head ? last.gzip_head->size() : 0);
		entries_.pop_back();
	}
}

} // namespace gw
