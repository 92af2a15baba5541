#include "kv-cache-manager.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace olm {

kv_cache_manager::kv_cache_manager(int32_t n_blocks, int32_t block_size_tokens, bool enable_prefix_caching)
    : block_size_(block_size_tokens), enable_prefix_caching_(enable_prefix_caching),
      pool_(n_blocks, enable_prefix_caching) {
    assert(block_size_tokens > 0);
}

kv_cache_blocks kv_cache_manager::get_computed_blocks(request& r) {
    assert(tables_.count(r.id) == 0 || tables_.at(r.id).blocks.empty());
    kv_cache_blocks hit;
    if (!enable_prefix_caching_) return hit;
    extend_block_hashes(r.block_hashes, r.salt, r.token_ids.data(), r.num_tokens(), block_size_);
    int32_t max_blocks = (r.num_tokens() - 1) / block_size_;
    for (int32_t i = 0; i < max_blocks; i++) {
        int32_t block = pool_.lookup(r.block_hashes[i]);
        if (block < 0) break;
        hit.block_ids.push_back(block);
    }
    return hit;
}

bool kv_cache_manager::allocate_slots(request& r, int32_t num_new_tokens, const kv_cache_blocks* new_computed) {
    assert(num_new_tokens > 0);
    request_blocks& table = tables_[r.id];
    int32_t num_hit_blocks = new_computed ? int32_t(new_computed->block_ids.size()) : 0;
    int64_t total_tokens = int64_t(r.num_computed_tokens) + int64_t(num_hit_blocks) * block_size_ + num_new_tokens;
    int32_t needed = int32_t((total_tokens + block_size_ - 1) / block_size_);
    int32_t held = int32_t(table.blocks.size()) + num_hit_blocks;
    int32_t num_new_blocks = std::max(0, needed - held);
    // Hit blocks nobody references sit in the free queue; touching them takes them out of it.
    int32_t hits_in_free_queue = 0;
    for (int32_t i = 0; i < num_hit_blocks; i++) {
        if (pool_.ref_count(new_computed->block_ids[i]) == 0) hits_in_free_queue++;
    }
    if (num_new_blocks + hits_in_free_queue > pool_.num_free_blocks()) {
        if (table.blocks.empty()) tables_.erase(r.id);
        return false;
    }
    if (num_hit_blocks > 0) {
        assert(table.blocks.empty());
        pool_.touch(new_computed->block_ids);
        table.blocks = new_computed->block_ids;
        table.num_cached_blocks = num_hit_blocks;
    }
    std::vector<int32_t> fresh = pool_.allocate(num_new_blocks);
    table.blocks.insert(table.blocks.end(), fresh.begin(), fresh.end());
    return true;
}

void kv_cache_manager::cache_computed_blocks(request& r) {
    if (!enable_prefix_caching_) return;
    auto it = tables_.find(r.id);
    if (it == tables_.end()) return;
    request_blocks& table = it->second;
    int32_t num_full = std::min<int32_t>(r.num_computed_tokens / block_size_, int32_t(table.blocks.size()));
    if (num_full <= table.num_cached_blocks) return;
    extend_block_hashes(r.block_hashes, r.salt, r.token_ids.data(), num_full * block_size_, block_size_);
    int32_t first = table.num_cached_blocks;
    std::vector<int32_t> ids(table.blocks.begin() + first, table.blocks.begin() + num_full);
    std::vector<block_hash> hashes(r.block_hashes.begin() + first, r.block_hashes.begin() + num_full);
    pool_.cache_blocks(ids, hashes, first > 0 ? &r.block_hashes[first - 1] : nullptr);
    table.num_cached_blocks = num_full;
}

void kv_cache_manager::free(const request& r) {
    auto it = tables_.find(r.id);
    if (it == tables_.end()) return;
    std::vector<int32_t> reversed(it->second.blocks.rbegin(), it->second.blocks.rend());
    pool_.release(reversed);
    tables_.erase(it);
}

const std::vector<int32_t>& kv_cache_manager::block_table(int64_t request_id) const {
    static const std::vector<int32_t> none;
    auto it = tables_.find(request_id);
    return it == tables_.end() ? none : it->second.blocks;
}

void kv_cache_manager::usage(const std::vector<const request*>& holders, int64_t* slots_allocated,
                             int64_t* tokens_stored) const {
    // A block shared by several requests counts once, with its fullest holder's fill.
    std::unordered_map<int32_t, int32_t> fill;
    for (const request* r : holders) {
        const std::vector<int32_t>& blocks = block_table(r->id);
        for (size_t j = 0; j < blocks.size(); j++) {
            int64_t in_block = int64_t(r->num_computed_tokens) - int64_t(j) * block_size_;
            int32_t n = int32_t(std::max<int64_t>(0, std::min<int64_t>(block_size_, in_block)));
            int32_t& f = fill[blocks[j]];
            f = std::max(f, n);
        }
    }
    *slots_allocated = int64_t(pool_.num_used_blocks()) * block_size_;
    int64_t stored = 0;
    for (const auto& kv : fill) stored += kv.second;
    *tokens_stored = stored;
}

void kv_cache_manager::check_invariants() const {
    pool_.check_invariants();
    // Every reference the pool counts is held by exactly one table entry.
    std::vector<int32_t> refs(size_t(pool_.n_blocks()), 0);
    for (const auto& kv : tables_) {
        for (int32_t b : kv.second.blocks) refs[b]++;
    }
    for (int32_t b = 0; b < pool_.n_blocks(); b++) {
        if (refs[b] != pool_.ref_count(b)) {
            std::fprintf(stderr, "kv_cache_manager: block %d has %d holders but ref count %d\n", b,
                         refs[b], pool_.ref_count(b));
            std::abort();
        }
    }
}

}  // namespace olm
