// model-runner.h: turns a scheduled batch into a batch_view (through batch_builder, like the
// single-sequence context) and runs the forward pass on a backend (backend.h).
#pragma once

#include <cstdint>
#include <vector>

#include "backend.h"
#include "batch.h"
#include "scheduler.h"

namespace olm {

class model_runner {
public:
    // Runs on `backend`, whose K/V storage is already allocated. Both must outlive the runner.
    model_runner(const model& m, forward_backend& backend, int32_t block_size_tokens);

    // Computes the scheduled tokens. Afterwards logits_row(i) is the row of logits() for the
    // i-th scheduled request when its last scheduled token is its last token (so a next token
    // is due), else -1.
    // greedy_only: every due request samples greedily without penalties or logprobs, so the
    // backend may pick the tokens where the logits are (only ids cross back); then
    // has_greedy_tokens() is true and greedy_token(row) replaces the sampler, logits() is unset.
    void run(const scheduler_output& out, bool greedy_only = false);

    int32_t logits_row(size_t scheduled_index) const { return seq_logits_row_[scheduled_index]; }
    const float* logits(int32_t row) const { return logits_.data() + int64_t(row) * vocab_size_; }
    bool has_greedy_tokens() const { return has_greedy_tokens_; }
    int32_t greedy_token(int32_t row) const { return greedy_tokens_[size_t(row)]; }

private:
    forward_backend& backend_;
    int32_t vocab_size_;
    batch_builder batch_;                 // reused across steps
    std::vector<int32_t> seq_logits_row_;
    std::vector<float> logits_;           // [n_logits, vocab]
    std::vector<int32_t> greedy_tokens_;  // [n_logits] when has_greedy_tokens_
    bool has_greedy_tokens_ = false;
};

}  // namespace olm
