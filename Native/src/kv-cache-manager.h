// kv-cache-manager.h: per-request block tables over the block pool, prefix lookup and caching of
// full blocks. The scheduler's only door to KV memory; it sees block ids, never the pool.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "block-pool.h"
#include "request.h"

namespace olm {

// Blocks handed between the KV cache manager and the scheduler: physical ids, in sequence order.
struct kv_cache_blocks {
    std::vector<int32_t> block_ids;
};

class kv_cache_manager {
public:
    kv_cache_manager(int32_t n_blocks, int32_t block_size_tokens, bool enable_prefix_caching);

    int32_t block_size_tokens() const { return block_size_; }
    int32_t n_blocks() const { return pool_.n_blocks(); }
    int32_t num_free_blocks() const { return pool_.num_free_blocks(); }
    int32_t num_used_blocks() const { return pool_.num_used_blocks(); }
    int32_t num_cached_blocks() const { return pool_.num_cached_blocks(); }
    bool prefix_caching() const { return enable_prefix_caching_; }

    // The longest run of cached blocks that starts `r`'s tokens, capped so that the last token
    // is always computed (its logits are needed). Precondition: r holds no blocks.
    kv_cache_blocks get_computed_blocks(request& r);

    // Makes room for `num_new_tokens` more tokens of `r` after its computed tokens and after
    // `new_computed` (a prefix hit from get_computed_blocks, which `r` then shares).
    // Returns false, changing nothing, when the pool has too few free blocks.
    bool allocate_slots(request& r, int32_t num_new_tokens, const kv_cache_blocks* new_computed = nullptr);

    // Registers the full blocks among r's first r.num_computed_tokens tokens as cached.
    void cache_computed_blocks(request& r);

    // Releases r's blocks (tail first, so its prefix is evicted last).
    void free(const request& r);

    // r's block table; empty when it holds none.
    const std::vector<int32_t>& block_table(int64_t request_id) const;

    // Forgets every cached hash (only when no block is in use); false otherwise.
    bool reset_prefix_cache() { return pool_.reset_prefix_cache(); }

    std::vector<kv_event> take_events() { return pool_.take_events(); }

    // Allocated slots (used blocks × block size) and tokens stored in them, given each holder's
    // computed tokens; their difference is the KV memory wasted in partly filled blocks.
    void usage(const std::vector<const request*>& holders, int64_t* slots_allocated,
               int64_t* tokens_stored) const;

    void check_invariants() const;

private:
    struct request_blocks {
        std::vector<int32_t> blocks;
        int32_t num_cached_blocks = 0;  // leading blocks already registered in the pool
    };

    int32_t block_size_;
    bool enable_prefix_caching_;
    block_pool pool_;
    std::unordered_map<int64_t, request_blocks> tables_;
};

}  // namespace olm
