// Block pool: free queue, ref counts, hash map, LRU eviction order, events, invariants.
#include <gtest/gtest.h>

#include <random>

#include "block-pool.h"

namespace {

olm::block_hash h(int i) {
    olm::block_hash x{};
    x[0] = uint8_t(i);
    x[1] = uint8_t(i >> 8);
    x[15] = 0xAB;
    return x;
}

}  // namespace

TEST(BlockPool, StartsAllFreeAndAllocationTakesReferences) {
    olm::block_pool pool(8, true);
    EXPECT_EQ(pool.num_free_blocks(), 8);
    auto a = pool.allocate(3);
    ASSERT_EQ(a.size(), 3u);
    for (int32_t b : a) EXPECT_EQ(pool.ref_count(b), 1);
    EXPECT_EQ(pool.num_free_blocks(), 5);
    EXPECT_EQ(pool.num_used_blocks(), 3);
    pool.check_invariants();
    pool.release(a);
    EXPECT_EQ(pool.num_free_blocks(), 8);
    for (int32_t b : a) EXPECT_EQ(pool.ref_count(b), 0);
    pool.check_invariants();
}

TEST(BlockPool, CachedBlocksAreFoundAndReportedStoredWithTheirParent) {
    olm::block_pool pool(8, true);
    auto a = pool.allocate(3);
    olm::block_hash parent = h(99);
    pool.cache_blocks({a[1], a[2]}, {h(1), h(2)}, &parent);
    EXPECT_EQ(pool.lookup(h(1)), a[1]);
    EXPECT_EQ(pool.lookup(h(2)), a[2]);
    EXPECT_EQ(pool.lookup(h(3)), -1);
    EXPECT_EQ(pool.num_cached_blocks(), 2);
    auto events = pool.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, olm::kv_event_kind::block_stored);
    EXPECT_EQ(events[0].hashes, (std::vector<olm::block_hash>{h(1), h(2)}));
    EXPECT_TRUE(events[0].has_parent);
    EXPECT_EQ(events[0].parent_hash, parent);
    EXPECT_TRUE(pool.take_events().empty());
    pool.check_invariants();
}

TEST(BlockPool, UncachedFreeBlocksGoFirstThenCachedOnesInLruOrder) {
    olm::block_pool pool(6, true);
    auto a = pool.allocate(4);  // queue now holds the 2 never-used blocks
    pool.cache_blocks(a, {h(0), h(1), h(2), h(3)}, nullptr);
    pool.take_events();
    // Released tail first, as the KV cache manager does: block 3 becomes least recently used.
    pool.release({a[3], a[2], a[1], a[0]});
    EXPECT_EQ(pool.num_cached_blocks(), 4);
    auto fresh = pool.allocate(2);
    EXPECT_EQ(pool.num_cached_blocks(), 4) << "free uncached blocks must be used before evicting";
    EXPECT_TRUE(pool.take_events().empty());
    auto evicting = pool.allocate(2);
    EXPECT_EQ(evicting, (std::vector<int32_t>{a[3], a[2]}));
    EXPECT_EQ(pool.lookup(h(3)), -1);
    EXPECT_EQ(pool.lookup(h(2)), -1);
    EXPECT_EQ(pool.lookup(h(0)), a[0]);
    auto events = pool.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, olm::kv_event_kind::block_removed);
    EXPECT_EQ(events[0].hashes, (std::vector<olm::block_hash>{h(3), h(2)}));
    pool.check_invariants();
}

TEST(BlockPool, TouchingACachedFreeBlockProtectsItFromEviction) {
    olm::block_pool pool(2, true);
    auto a = pool.allocate(2);
    pool.cache_blocks(a, {h(0), h(1)}, nullptr);
    pool.release({a[1], a[0]});
    pool.touch({a[0]});  // a prefix hit
    EXPECT_EQ(pool.ref_count(a[0]), 1);
    EXPECT_EQ(pool.num_free_blocks(), 1);
    auto b = pool.allocate(1);
    EXPECT_EQ(b[0], a[1]);
    EXPECT_EQ(pool.lookup(h(0)), a[0]);
    pool.touch({a[0]});
    EXPECT_EQ(pool.ref_count(a[0]), 2);
    pool.release({a[0]});
    pool.release({a[0]});
    pool.release(b);
    EXPECT_EQ(pool.num_free_blocks(), 2);
    pool.check_invariants();
}

TEST(BlockPool, ATwinBlockWithAKnownHashStaysUncached) {
    olm::block_pool pool(4, true);
    auto a = pool.allocate(1);
    auto b = pool.allocate(1);
    pool.cache_blocks(a, {h(7)}, nullptr);
    pool.cache_blocks(b, {h(7)}, nullptr);
    EXPECT_EQ(pool.lookup(h(7)), a[0]);
    EXPECT_EQ(pool.num_cached_blocks(), 1) << "the twin holds no hash";
    EXPECT_EQ(pool.take_events().size(), 1u);
    pool.check_invariants();
}

TEST(BlockPool, ResetNeedsEveryBlockFreeAndReportsAllCleared) {
    olm::block_pool pool(4, true);
    auto a = pool.allocate(2);
    pool.cache_blocks(a, {h(0), h(1)}, nullptr);
    pool.take_events();
    EXPECT_FALSE(pool.reset_prefix_cache());
    EXPECT_EQ(pool.num_cached_blocks(), 2);
    pool.release(a);
    EXPECT_TRUE(pool.reset_prefix_cache());
    EXPECT_EQ(pool.num_cached_blocks(), 0);
    EXPECT_EQ(pool.lookup(h(0)), -1);
    auto events = pool.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, olm::kv_event_kind::all_blocks_cleared);
    pool.check_invariants();
}

TEST(BlockPool, CachingDisabledStoresNothing) {
    olm::block_pool pool(4, false);
    auto a = pool.allocate(2);
    pool.cache_blocks(a, {h(0), h(1)}, nullptr);
    EXPECT_EQ(pool.lookup(h(0)), -1);
    EXPECT_EQ(pool.num_cached_blocks(), 0);
    EXPECT_TRUE(pool.take_events().empty());
}

TEST(BlockPool, RandomOperationsKeepEveryInvariant) {
    const int32_t n = 32;
    olm::block_pool pool(n, true);
    std::mt19937 rng(7);
    // Each holder's blocks, and whether they were cached (hashed) while held: the test tracks it
    // so that the pool needs no test-only query.
    struct holder {
        std::vector<int32_t> blocks;
        bool cached = false;
    };
    std::vector<holder> holders;
    int next_hash = 0;
    for (int op = 0; op < 5000; op++) {
        int kind = int(rng() % 4);
        if (kind == 0 && pool.num_free_blocks() > 0) {
            int32_t k = 1 + int32_t(rng() % uint32_t(std::min(4, pool.num_free_blocks())));
            holders.push_back({pool.allocate(k), false});
        } else if (kind == 1 && !holders.empty()) {
            holder& held = holders[rng() % holders.size()];
            if (held.cached) continue;  // a cached block's content (and hash) never changes
            held.cached = true;
            const std::vector<int32_t>& blocks = held.blocks;
            std::vector<olm::block_hash> hashes;
            for (size_t i = 0; i < blocks.size(); i++) hashes.push_back(h(next_hash++ % 40));
            pool.cache_blocks(blocks, hashes, nullptr);
        } else if (kind == 2 && !holders.empty()) {
            size_t i = rng() % holders.size();
            pool.release(holders[i].blocks);
            holders.erase(holders.begin() + long(i));
        } else if (kind == 3) {
            int32_t found = pool.lookup(h(int(rng() % 40)));
            if (found >= 0) {
                pool.touch({found});
                holders.push_back({{found}, true});
            }
        }
        pool.check_invariants();
        for (int32_t b = 0; b < n; b++) ASSERT_GE(pool.ref_count(b), 0);
    }
    for (auto& held : holders) pool.release(held.blocks);
    EXPECT_EQ(pool.num_free_blocks(), n);
    EXPECT_TRUE(pool.reset_prefix_cache());
    EXPECT_EQ(pool.num_cached_blocks(), 0);
    pool.check_invariants();
}
