// model-runner.h: turns a scheduled batch into the flat arrays of batch_view (token ids,
// positions, slot mapping, CSR query starts and block tables) and runs the forward pass.
#pragma once

#include <cstdint>
#include <vector>

#include "forward.h"
#include "scheduler.h"

namespace olm {

class model_runner {
public:
    // Owns the paged K/V storage of n_blocks blocks. `m` and `pool` must outlive the runner.
    model_runner(const model& m, int32_t n_blocks, int32_t block_size_tokens, thread_pool& pool);

    // Computes the scheduled tokens. Afterwards logits_row(i) is the row of logits() for the
    // i-th scheduled request when its last scheduled token is its last token (so a next token
    // is due), else -1.
    void run(const scheduler_output& out);

    int32_t logits_row(size_t scheduled_index) const { return seq_logits_row_[scheduled_index]; }
    const float* logits(int32_t row) const { return logits_.data() + int64_t(row) * vocab_size_; }

private:
    const model& model_;
    thread_pool& pool_;
    kv_storage kv_;
    int32_t block_size_;
    int32_t vocab_size_;
    // Flat batch arrays, reused across steps.
    std::vector<int32_t> token_ids_, positions_, query_start_, context_lens_, block_indptr_,
        block_indices_, logits_rows_, seq_logits_row_;
    std::vector<int64_t> slot_mapping_;
    std::vector<float> logits_;  // [n_logits, vocab]
};

}  // namespace olm
