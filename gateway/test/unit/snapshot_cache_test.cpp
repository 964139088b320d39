// The GET /store/ cache: entries kept under their tag without the version, evicted by bytes; gzip
// answers joined from a cached head and a per-answer tail decode to the whole text.
#include "core/snapshot_cache.hpp"

#include "gunzip.hpp"

#include <gtest/gtest.h>

using namespace gw;

namespace {

// A snapshot text of one key with these documents, ending with version.
std::string
snapshot_text(const std::string &documents, const std::string &version)
{
	return "{\"items\":[" + documents + "]," + version_tail(version);
}

} // namespace

TEST(SnapshotCache, KeepsTheTextWithoutItsVersion)
{
	SnapshotCache cache(1 << 20);
	ASSERT_TRUE(cache.insert("t1", snapshot_text("{\"id\":1}", "s:5:5:"), "s:5:5:"));
	CachedSnapshot *e = cache.find("t1");
	ASSERT_NE(e, nullptr);
	EXPECT_EQ(*e->head, "{\"items\":[{\"id\":1}],");
	EXPECT_EQ(*e->head + version_tail("s:9:9:"), snapshot_text("{\"id\":1}", "s:9:9:"));
	EXPECT_EQ(cache.find("t2"), nullptr);
}

TEST(SnapshotCache, RefusesTextsNotEndingWithTheirVersionOrTooLarge)
{
	SnapshotCache cache(64);
	EXPECT_FALSE(cache.insert("t", snapshot_text("1", "a"), "b"));
	EXPECT_FALSE(cache.insert("t", snapshot_text(std::string(100, '1'), "a"), "a"));
	EXPECT_EQ(cache.find("t"), nullptr);
	SnapshotCache none(0);
	EXPECT_FALSE(none.insert("t", snapshot_text("1", "a"), "a"));
}

TEST(SnapshotCache, EvictsTheLeastRecentlyUsed)
{
	SnapshotCache cache(100);
	ASSERT_TRUE(cache.insert("a", snapshot_text(std::string(30, '1'), "v"), "v"));
	ASSERT_TRUE(cache.insert("b", snapshot_text(std::string(30, '2'), "v"), "v"));
	ASSERT_NE(cache.find("a"), nullptr); // a is now the most recent
	ASSERT_TRUE(cache.insert("c", snapshot_text(std::string(30, '3'), "v"), "v"));
	EXPECT_NE(cache.find("a"), nullptr);
	EXPECT_EQ(cache.find("b"), nullptr);
	EXPECT_NE(cache.find("c"), nullptr);
}

TEST(SnapshotCache, ReplacesAnEntryUnderTheSameTag)
{
	SnapshotCache cache(1000);
	ASSERT_TRUE(cache.insert("a", snapshot_text("1", "v"), "v"));
	ASSERT_TRUE(cache.insert("a", snapshot_text("2", "w"), "w"));
	EXPECT_EQ(*cache.find("a")->head, "{\"items\":[2],");
}

TEST(SnapshotCache, GzipHeadAndTailDecodeToTheWholeText)
{
	SnapshotCache cache(1 << 22);
	std::string documents;
	for (int i = 0; i < 20000; i++)
		documents += (i ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"v\":\"x\"}";
	ASSERT_TRUE(cache.insert("t", snapshot_text(documents, "s:1:1:"), "s:1:1:"));
	CachedSnapshot *e = cache.find("t");
	cache.ensure_gzip(*e);
	for (std::string version : {"s:1:1:", "s:77:80:78,79", ""}) {
		bool ok = false;
		std::string tail = version_tail(version);
		EXPECT_EQ(gunzip(*e->gzip_head + gzip_tail(*e, tail), &ok), snapshot_text(documents, version));
		EXPECT_TRUE(ok) << version;
	}
	bool ok = true;
	gunzip(*e->gzip_head, &ok); // the head alone is not a whole stream
	EXPECT_FALSE(ok);
}

TEST(SnapshotCache, GzipOfAnEmptyStore)
{
	SnapshotCache cache(1000);
	ASSERT_TRUE(cache.insert("t", "{" + version_tail("v"), "v"));
	CachedSnapshot *e = cache.find("t");
	cache.ensure_gzip(*e);
	bool ok = false;
	EXPECT_EQ(gunzip(*e->gzip_head + gzip_tail(*e, version_tail("w")), &ok), "{" + version_tail("w"));
	EXPECT_TRUE(ok);
}
