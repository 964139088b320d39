// The cache of GET /store/ answers: documents kept under store_snapshot_tag() (equal tags, equal
// documents), the version written fresh for each answer; bounded in bytes (no I/O).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>

namespace gw {

// One cached snapshot: its text up to the version ("{...," or "{"), and that text gzipped (made on
// first use) as a gzip header and deflate blocks ending in a full flush, with its CRC-32.
struct CachedSnapshot {
	std::string tag;
	std::shared_ptr<const std::string> head;
	std::shared_ptr<const std::string> gzip_head;
	std::uint32_t crc = 0;
};

// The end of a snapshot's text after its documents: "version":V}.
std::string version_tail(const std::string &version);

// What follows a cached gzip head for a tail: the tail's deflate blocks (the last one final) and the
// gzip trailer (CRC-32 and length of head + tail).
std::string gzip_tail(const CachedSnapshot &entry, const std::string &tail);

// The gzip head of a text: header and deflate blocks ending in a full flush (no final block), and its CRC-32.
std::string gzip_head(const std::string &text, std::uint32_t &crc);

class SnapshotCache {
public:
	explicit SnapshotCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
	// The entry kept under tag (moved to the front), or nullptr.
	CachedSnapshot *find(const std::string &tag);
	// Keeps a whole snapshot text read at version under tag; false (nothing kept) when it is larger than
	// the cache or does not end with the version.
	bool insert(const std::string &tag, std::string text, const std::string &version);
	// The number of bytes the cache may hold (0: it holds nothing).
	std::size_t
	max_bytes() const
	{
		return max_bytes_;
	}
	// Makes the entry's gzip head (once) and counts its bytes.
	void ensure_gzip(CachedSnapshot &entry);

private:
	void evict();
	std::size_t max_bytes_, bytes_ = 0;
	std::list<CachedSnapshot> entries_; // most recently used first
};

} // namespace gw
