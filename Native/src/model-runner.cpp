#include "model-runner.h"

#include <cassert>

#include "model.h"

namespace olm {

model_runner::model_runner(const model& m, int32_t n_blocks, int32_t block_size_tokens, thread_pool& pool)
    : model_(m), pool_(pool), kv_(m, n_blocks, block_size_tokens), block_size_(block_size_tokens),
      vocab_size_(m.config.vocab_size) {}

void model_runner::run(const scheduler_output& out) {
    token_ids_.clear();
    positions_.clear();
    slot_mapping_.clear();
    query_start_.assign(1, 0);
    context_lens_.clear();
    block_indptr_.assign(1, 0);
    block_indices_.clear();
    logits_rows_.clear();
    seq_logits_row_.assign(out.scheduled.size(), -1);

    for (size_t i = 0; i < out.scheduled.size(); i++) {
        const scheduled_request& s = out.scheduled[i];
        const request& r = *s.req;
        const int32_t start = r.num_computed_tokens;
        const int32_t end = start + s.num_new_tokens;
        const std::vector<int32_t>& blocks = s.blocks.block_ids;
        assert(int64_t(blocks.size()) * block_size_ >= end);
        for (int32_t p = start; p < end; p++) {
            token_ids_.push_back(r.token_ids[size_t(p)]);
            positions_.push_back(p);
            slot_mapping_.push_back(int64_t(blocks[size_t(p / block_size_)]) * block_size_ + p % block_size_);
        }
        query_start_.push_back(int32_t(token_ids_.size()));
        context_lens_.push_back(end);
        const int32_t n_blocks_used = (end + block_size_ - 1) / block_size_;
        block_indices_.insert(block_indices_.end(), blocks.begin(), blocks.begin() + n_blocks_used);
        block_indptr_.push_back(int32_t(block_indices_.size()));
        if (end == r.num_tokens()) {
            seq_logits_row_[i] = int32_t(logits_rows_.size());
            logits_rows_.push_back(int32_t(token_ids_.size()) - 1);
        }
    }

    batch_view b;
    b.n_tokens = int32_t(token_ids_.size());
    b.token_ids = token_ids_.data();
    b.positions = positions_.data();
    b.slot_mapping = slot_mapping_.data();
    b.n_seqs = int32_t(out.scheduled.size());
    b.query_start = query_start_.data();
    b.context_lens = context_lens_.data();
    b.block_indptr = block_indptr_.data();
    b.block_indices = block_indices_.data();
    b.n_logits = int32_t(logits_rows_.size());
    b.logits_rows = logits_rows_.data();
    logits_.resize(size_t(b.n_logits) * size_t(vocab_size_));
    if (b.n_tokens == 0) return;
    forward(model_, kv_, b, pool_, logits_.data());
}

}  // namespace olm
