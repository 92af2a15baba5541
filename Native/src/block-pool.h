// block-pool.h: the physical KV blocks: free list, ref counts, the hash → block map of cached
// full blocks, and the LRU order in which unreferenced cached blocks are evicted.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "block-hash.h"
#include "kv-event.h"

namespace olm {

// One free queue holds every block with ref_count 0, least recently freed at the head: an
// allocation takes the head, evicting its hash if it had one, so cached blocks live as long as
// possible and die in LRU order. Blocks a request frees together are queued in the order given
// (the KV cache manager passes them tail-first, so a prefix outlives its suffix).
class block_pool {
public:
    block_pool(int32_t n_blocks, bool enable_caching);

    int32_t n_blocks() const { return int32_t(blocks_.size()); }
    int32_t num_free_blocks() const { return num_free_; }           // ref_count 0 (cached or not)
    int32_t num_used_blocks() const { return n_blocks() - num_free_; }
    int32_t num_cached_blocks() const { return int32_t(cached_.size()); }
    int32_t ref_count(int32_t block) const { return blocks_[block].ref_count; }

    // Takes `n` blocks off the head of the free queue with ref_count 1 each.
    // Precondition: n <= num_free_blocks().
    std::vector<int32_t> allocate(int32_t n);

    // Cached block holding `hash`, or -1.
    int32_t lookup(const block_hash& hash) const;

    // One more reference to each block (a prefix hit); a block at ref_count 0 leaves the queue.
    void touch(const std::vector<int32_t>& blocks);

    // One reference less on each block, in order; blocks reaching 0 join the queue's tail.
    void release(const std::vector<int32_t>& blocks);

    // Registers full blocks under their hashes (a chain: hashes[i] belongs to blocks[i]) and
    // reports them stored. A hash already held by another block leaves that block uncached.
    // `parent` is the hash of the block before blocks[0], or null for a chain from block 0.
    void cache_blocks(const std::vector<int32_t>& blocks, const std::vector<block_hash>& hashes,
                      const block_hash* parent);

    // Forgets every hash, reporting all cleared. Only when no block is referenced; returns
    // false (and does nothing) otherwise.
    bool reset_prefix_cache();

    // Events since the last call, oldest first.
    std::vector<kv_event> take_events();

    // Checks every invariant (ref counts, queue membership, hash map); aborts on violation.
    void check_invariants() const;

private:
    struct block {
        int32_t ref_count = 0;
        bool has_hash = false;
        block_hash hash{};
        int32_t prev = -1;  // free queue links; -1 = none
        int32_t next = -1;
        bool in_queue = false;
    };

    void queue_push_back(int32_t id);
    void queue_remove(int32_t id);
    void evict_hash(int32_t id);

    bool enable_caching_;
    std::vector<block> blocks_;
    int32_t head_ = -1;
    int32_t tail_ = -1;
    int32_t num_free_ = 0;
    std::unordered_map<block_hash, int32_t, block_hash_hasher> cached_;
    std::vector<kv_event> events_;
};

}  // namespace olm
