// kv-event.h: what the KV cache reports to the prefix index (DESIGN.md §3), with vLLM's
// meaning: blocks stored (now findable by hash), blocks removed (evicted), all cleared.
#pragma once

#include <vector>

#include "block-hash.h"

namespace olm {

enum class kv_event_kind : int32_t { block_stored = 0, block_removed = 1, all_blocks_cleared = 2 };

struct kv_event {
    kv_event_kind kind = kv_event_kind::block_stored;
    std::vector<block_hash> hashes;  // stored: a chain, in order; removed: any order
    bool has_parent = false;         // stored: whether the first block has a parent block
    block_hash parent_hash{};        // stored: hash of the block before hashes[0]
};

}  // namespace olm
