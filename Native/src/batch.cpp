#include "batch.h"

#include "status.h"

namespace olm {

void batch_builder::clear() {
    token_ids_.clear();
    positions_.clear();
    slot_mapping_.clear();
    query_start_.assign(1, 0);
    context_lens_.clear();
    block_indptr_.assign(1, 0);
    block_indices_.clear();
    logits_rows_.clear();
}

int32_t batch_builder::add_sequence(const int32_t* tokens, int32_t start, int32_t n_new, const int32_t* blocks,
                                    size_t n_blocks, logits_wanted wanted) {
    const int32_t end = start + n_new;
    const int32_t n_blocks_used = (end + block_size_ - 1) / block_size_;
    // A block table too short would make forward() write K/V outside the cache: a bug upstream.
    if (n_new < 0 || start < 0 || int64_t(n_blocks) < n_blocks_used) {
        throw error(ORLEANSLLM_ERR_INTERNAL, "batch_builder: block table does not cover the sequence");
    }
    const int32_t first_row = int32_t(token_ids_.size());
    for (int32_t i = 0; i < n_new; i++) {
        const int32_t p = start + i;
        token_ids_.push_back(tokens[i]);
        positions_.push_back(p);
        slot_mapping_.push_back(int64_t(blocks[p / block_size_]) * block_size_ + p % block_size_);
    }
    query_start_.push_back(int32_t(token_ids_.size()));
    context_lens_.push_back(end);
    block_indices_.insert(block_indices_.end(), blocks, blocks + n_blocks_used);
    block_indptr_.push_back(int32_t(block_indices_.size()));
    if (n_new == 0 || wanted == logits_wanted::none) return -1;
    const int32_t logits_row = int32_t(logits_rows_.size());
    if (wanted == logits_wanted::last) {
        logits_rows_.push_back(int32_t(token_ids_.size()) - 1);
    } else {
        for (int32_t i = 0; i < n_new; i++) logits_rows_.push_back(first_row + i);
    }
    return logits_row;
}

batch_view batch_builder::view() const {
    batch_view b = attention_batch(int32_t(token_ids_.size()), positions_.data(), int32_t(context_lens_.size()), query_start_.data(),
                                   context_lens_.data(), block_indptr_.data(), block_indices_.data());
    b.token_ids = token_ids_.data();
    b.slot_mapping = slot_mapping_.data();
    b.n_logits = int32_t(logits_rows_.size());
    b.logits_rows = logits_rows_.data();
    return b;
}

}  // namespace olm
