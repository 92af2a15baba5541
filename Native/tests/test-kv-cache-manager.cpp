// KV cache manager: block tables, prefix caching (longest run, last token always computed,
// salt isolation), allocation failure leaves nothing behind, LRU eviction, events, usage.
#include <gtest/gtest.h>

#include "kv-cache-manager.h"

namespace {

std::unique_ptr<olm::request> make_request(int64_t id, int32_t n_tokens, int32_t first = 100,
                                           const std::string& salt = "") {
    auto r = std::make_unique<olm::request>();
    r->id = id;
    for (int32_t i = 0; i < n_tokens; i++) r->token_ids.push_back(first + i);
    r->num_prompt_tokens = n_tokens;
    r->salt = salt;
    return r;
}

// Computes all of r's tokens as a scheduler + forward pass would.
void compute_all(olm::kv_cache_manager& kv, olm::request& r) {
    auto hit = kv.get_computed_blocks(r);
    int32_t hit_tokens = int32_t(hit.block_ids.size()) * kv.block_size_tokens();
    ASSERT_TRUE(kv.allocate_slots(r, r.num_tokens() - hit_tokens, &hit));
    r.num_computed_tokens = r.num_tokens();
    kv.cache_computed_blocks(r);
}

}  // namespace

TEST(KvCacheManager, AllocatesWholeBlocksAndCachesOnlyFullComputedOnes) {
    olm::kv_cache_manager kv(10, 16, true);
    auto r = make_request(1, 35);
    auto hit = kv.get_computed_blocks(*r);
    EXPECT_TRUE(hit.block_ids.empty());
    ASSERT_TRUE(kv.allocate_slots(*r, 35, &hit));
    EXPECT_EQ(kv.block_table(1).size(), 3u);
    EXPECT_EQ(kv.num_free_blocks(), 7);
    r->num_computed_tokens = 20;  // a chunk: one full block computed
    kv.cache_computed_blocks(*r);
    EXPECT_EQ(kv.num_cached_blocks(), 1);
    r->num_computed_tokens = 35;
    kv.cache_computed_blocks(*r);
    EXPECT_EQ(kv.num_cached_blocks(), 2);
    auto events = kv.take_events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_FALSE(events[0].has_parent);
    EXPECT_EQ(events[0].hashes.size(), 1u);
    EXPECT_TRUE(events[1].has_parent);
    EXPECT_EQ(events[1].parent_hash, events[0].hashes[0]);
    EXPECT_EQ(events[1].hashes.size(), 1u);
    EXPECT_EQ(r->block_hashes.size(), 2u);
    kv.check_invariants();
}

TEST(KvCacheManager, DecodeGrowsByOneBlockAtEachBoundary) {
    olm::kv_cache_manager kv(10, 4, true);
    auto r = make_request(1, 3);
    ASSERT_TRUE(kv.allocate_slots(*r, 3));
    r->num_computed_tokens = 3;
    std::vector<size_t> sizes;
    for (int i = 0; i < 6; i++) {
        r->token_ids.push_back(7);
        ASSERT_TRUE(kv.allocate_slots(*r, 1));
        r->num_computed_tokens++;
        kv.cache_computed_blocks(*r);
        sizes.push_back(kv.block_table(1).size());
    }
    // 4,5,6,7,8,9 tokens in KV with 4-token blocks.
    EXPECT_EQ(sizes, (std::vector<size_t>{1, 2, 2, 2, 2, 3}));
    EXPECT_EQ(kv.num_cached_blocks(), 2);
    kv.check_invariants();
}

TEST(KvCacheManager, PrefixHitIsTheLongestCachedRunAndLeavesTheLastTokenToCompute) {
    olm::kv_cache_manager kv(20, 16, true);
    auto a = make_request(1, 50);
    compute_all(kv, *a);
    kv.take_events();
    // Same 50 tokens: 3 full blocks cached, all 3 usable since token 49 is still computed.
    auto b = make_request(2, 50);
    EXPECT_EQ(kv.get_computed_blocks(*b).block_ids.size(), 3u);
    // Exactly 48 tokens: the third block holds the last token, so only 2 blocks are a hit.
    auto c = make_request(3, 48);
    EXPECT_EQ(kv.get_computed_blocks(*c).block_ids.size(), 2u);
    // A different token in block 1 ends the run after block 0.
    auto d = make_request(4, 50);
    d->token_ids[20] = 5;
    auto hit = kv.get_computed_blocks(*d);
    ASSERT_EQ(hit.block_ids.size(), 1u);
    EXPECT_EQ(hit.block_ids[0], kv.block_table(1)[0]);
    // Sharing: the hit block gets a second reference, the rest are fresh.
    ASSERT_TRUE(kv.allocate_slots(*d, 50 - 16, &hit));
    EXPECT_EQ(kv.block_table(4)[0], kv.block_table(1)[0]);
    EXPECT_NE(kv.block_table(4)[1], kv.block_table(1)[1]);
    kv.check_invariants();
}

TEST(KvCacheManager, SaltIsolatesTenants) {
    olm::kv_cache_manager kv(20, 16, true);
    auto a = make_request(1, 40, 100, "tenant-a");
    compute_all(kv, *a);
    auto same = make_request(2, 40, 100, "tenant-a");
    auto other = make_request(3, 40, 100, "tenant-b");
    auto none = make_request(4, 40, 100, "");
    EXPECT_EQ(kv.get_computed_blocks(*same).block_ids.size(), 2u);
    EXPECT_TRUE(kv.get_computed_blocks(*other).block_ids.empty());
    EXPECT_TRUE(kv.get_computed_blocks(*none).block_ids.empty());
}

TEST(KvCacheManager, FailedAllocationChangesNothing) {
    olm::kv_cache_manager kv(4, 16, true);
    auto a = make_request(1, 40);
    ASSERT_TRUE(kv.allocate_slots(*a, 40));
    auto b = make_request(2, 40);
    EXPECT_FALSE(kv.allocate_slots(*b, 40));
    EXPECT_EQ(kv.num_free_blocks(), 1);
    EXPECT_TRUE(kv.block_table(2).empty());
    EXPECT_TRUE(kv.allocate_slots(*b, 16));
    kv.check_invariants();
}

TEST(KvCacheManager, HitBlocksWaitingInTheFreeQueueCountAgainstTheBudget) {
    olm::kv_cache_manager kv(4, 16, true);
    auto a = make_request(1, 48);
    compute_all(kv, *a);  // 3 blocks, all cached
    kv.free(*a);
    EXPECT_EQ(kv.num_free_blocks(), 4);
    // 64 tokens sharing a's 3 blocks (3 hits, all unreferenced) need 1 more: exactly 4.
    auto b = make_request(2, 64);
    auto hit = kv.get_computed_blocks(*b);
    ASSERT_EQ(hit.block_ids.size(), 3u);
    auto c = make_request(3, 80);
    auto hit_c = kv.get_computed_blocks(*c);
    ASSERT_EQ(hit_c.block_ids.size(), 3u);
    EXPECT_FALSE(kv.allocate_slots(*c, 80 - 48 + 16, &hit_c)) << "would need 5 blocks";
    EXPECT_TRUE(kv.allocate_slots(*b, 16, &hit));
    EXPECT_EQ(kv.num_free_blocks(), 0);
    kv.check_invariants();
}

TEST(KvCacheManager, EvictsLeastRecentlyUsedAndReportsRemovals) {
    olm::kv_cache_manager kv(6, 16, true);
    auto a = make_request(1, 32, 1000);
    auto b = make_request(2, 32, 2000);
    compute_all(kv, *a);
    compute_all(kv, *b);
    kv.free(*a);  // a is older in the LRU than b
    kv.free(*b);
    kv.take_events();
    EXPECT_EQ(kv.num_cached_blocks(), 4);
    // 5 blocks needed: the 2 never-used blocks, then a's two, then one of b's (its tail).
    auto c = make_request(3, 80, 3000);
    ASSERT_TRUE(kv.allocate_slots(*c, 80));
    auto events = kv.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, olm::kv_event_kind::block_removed);
    EXPECT_EQ(events[0].hashes.size(), 3u);
    auto b_again = make_request(4, 40, 2000);
    EXPECT_EQ(kv.get_computed_blocks(*b_again).block_ids.size(), 1u) << "b's first block survives";
    auto a_again = make_request(5, 40, 1000);
    EXPECT_TRUE(kv.get_computed_blocks(*a_again).block_ids.empty());
    kv.check_invariants();
}

TEST(KvCacheManager, PrefixCachingOffNeverHitsOrReports) {
    olm::kv_cache_manager kv(10, 16, false);
    auto a = make_request(1, 40);
    compute_all(kv, *a);
    auto b = make_request(2, 40);
    EXPECT_TRUE(kv.get_computed_blocks(*b).block_ids.empty());
    EXPECT_TRUE(kv.take_events().empty());
    EXPECT_EQ(kv.num_cached_blocks(), 0);
}

TEST(KvCacheManager, UsageCountsSlotsAndStoredTokensOncePerSharedBlock) {
    olm::kv_cache_manager kv(10, 16, true);
    auto a = make_request(1, 40);
    compute_all(kv, *a);
    auto b = make_request(2, 40);
    compute_all(kv, *b);  // shares 2 blocks with a, 1 own block
    int64_t slots = 0, stored = 0;
    kv.usage({a.get(), b.get()}, &slots, &stored);
    EXPECT_EQ(slots, 4 * 16);
    EXPECT_EQ(stored, 32 + 8 + 8);
}

TEST(KvCacheManager, EverythingFreedThenResetLeavesAnEmptyPool) {
    olm::kv_cache_manager kv(12, 8, true);
    std::vector<std::unique_ptr<olm::request>> rs;
    for (int i = 0; i < 4; i++) {
        rs.push_back(make_request(i, 20 + i, 50 * (i % 2)));
        compute_all(kv, *rs.back());
        kv.check_invariants();
    }
    EXPECT_FALSE(kv.reset_prefix_cache());
    for (auto& r : rs) kv.free(*r);
    EXPECT_EQ(kv.num_free_blocks(), 12);
    EXPECT_EQ(kv.num_used_blocks(), 0);
    EXPECT_TRUE(kv.reset_prefix_cache());
    EXPECT_EQ(kv.num_cached_blocks(), 0);
    auto events = kv.take_events();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, olm::kv_event_kind::all_blocks_cleared);
    kv.check_invariants();
}
