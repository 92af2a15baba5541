#include "block-pool.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace olm {

block_pool::block_pool(int32_t n_blocks, bool enable_caching)
    : enable_caching_(enable_caching), blocks_(size_t(n_blocks)) {
    assert(n_blocks > 0);
    for (int32_t i = 0; i < n_blocks; i++) queue_push_back(i);
}

void block_pool::queue_push_back(int32_t id) {
    block& b = blocks_[id];
    assert(!b.in_queue);
    b.prev = tail_;
    b.next = -1;
    if (tail_ >= 0) {
        blocks_[tail_].next = id;
    } else {
        head_ = id;
    }
    tail_ = id;
    b.in_queue = true;
    num_free_++;
}

void block_pool::queue_remove(int32_t id) {
    block& b = blocks_[id];
    assert(b.in_queue);
    if (b.prev >= 0) {
        blocks_[b.prev].next = b.next;
    } else {
        head_ = b.next;
    }
    if (b.next >= 0) {
        blocks_[b.next].prev = b.prev;
    } else {
        tail_ = b.prev;
    }
    b.prev = b.next = -1;
    b.in_queue = false;
    num_free_--;
}

void block_pool::evict_hash(int32_t id) {
    block& b = blocks_[id];
    if (!b.has_hash) return;
    cached_.erase(b.hash);
    b.has_hash = false;
    // Evictions of one allocation go into one event.
    if (events_.empty() || events_.back().kind != kv_event_kind::block_removed) {
        events_.push_back(kv_event{kv_event_kind::block_removed, {}, false, {}});
    }
    events_.back().hashes.push_back(b.hash);
}

std::vector<int32_t> block_pool::allocate(int32_t n) {
    assert(n >= 0 && n <= num_free_);
    std::vector<int32_t> out;
    out.reserve(size_t(n));
    for (int32_t i = 0; i < n; i++) {
        int32_t id = head_;
        queue_remove(id);
        evict_hash(id);
        blocks_[id].ref_count = 1;
        out.push_back(id);
    }
    return out;
}

int32_t block_pool::lookup(const block_hash& hash) const {
    auto it = cached_.find(hash);
    return it == cached_.end() ? -1 : it->second;
}

void block_pool::touch(const std::vector<int32_t>& ids) {
    for (int32_t id : ids) {
        block& b = blocks_[id];
        if (b.ref_count == 0) queue_remove(id);
        b.ref_count++;
    }
}

void block_pool::release(const std::vector<int32_t>& ids) {
    for (int32_t id : ids) {
        block& b = blocks_[id];
        assert(b.ref_count > 0);
        b.ref_count--;
        if (b.ref_count == 0) queue_push_back(id);
    }
}

void block_pool::cache_blocks(const std::vector<int32_t>& ids, const std::vector<block_hash>& hashes,
                              const block_hash* parent) {
    assert(ids.size() == hashes.size());
    if (!enable_caching_) return;
    kv_event stored{kv_event_kind::block_stored, {}, false, {}};
    auto flush = [&] {
        if (!stored.hashes.empty()) events_.push_back(stored);
        stored.hashes.clear();
    };
    for (size_t i = 0; i < ids.size(); i++) {
        block& b = blocks_[ids[i]];
        assert(b.ref_count > 0);
        if (b.has_hash) {  // a prefix hit or cached before
            assert(b.hash == hashes[i]);
            flush();
            continue;
        }
        if (cached_.count(hashes[i]) != 0) {  // a twin block holds this hash already
            flush();
            continue;
        }
        b.has_hash = true;
        b.hash = hashes[i];
        cached_.emplace(hashes[i], ids[i]);
        if (stored.hashes.empty()) {
            const block_hash* before = i > 0 ? &hashes[i - 1] : parent;
            stored.has_parent = before != nullptr;
            stored.parent_hash = before ? *before : block_hash{};
        }
        stored.hashes.push_back(hashes[i]);
    }
    flush();
}

bool block_pool::reset_prefix_cache() {
    if (num_free_ != n_blocks()) return false;
    for (block& b : blocks_) b.has_hash = false;
    cached_.clear();
    events_.push_back(kv_event{kv_event_kind::all_blocks_cleared, {}, false, {}});
    return true;
}

std::vector<kv_event> block_pool::take_events() {
    std::vector<kv_event> out;
    out.swap(events_);
    return out;
}

void block_pool::check_invariants() const {
    auto fail = [](const char* what) {
        std::fprintf(stderr, "block_pool invariant violated: %s\n", what);
        std::abort();
    };
    int32_t queued = 0;
    int32_t prev = -1;
    for (int32_t id = head_; id >= 0; id = blocks_[id].next) {
        if (blocks_[id].prev != prev) fail("free queue links");
        if (blocks_[id].ref_count != 0) fail("referenced block in the free queue");
        if (!blocks_[id].in_queue) fail("queued block not marked");
        prev = id;
        if (++queued > n_blocks()) fail("free queue cycle");
    }
    if (prev != tail_) fail("free queue tail");
    if (queued != num_free_) fail("free count");
    int32_t hashed = 0;
    for (int32_t id = 0; id < n_blocks(); id++) {
        const block& b = blocks_[id];
        if (b.ref_count < 0) fail("negative ref count");
        if ((b.ref_count == 0) != b.in_queue) fail("unreferenced block outside the free queue");
        if (b.has_hash) {
            hashed++;
            auto it = cached_.find(b.hash);
            if (it == cached_.end() || it->second != id) fail("hash map disagrees with block");
        }
    }
    if (hashed != int32_t(cached_.size())) fail("hash map size");
}

}  // namespace olm
