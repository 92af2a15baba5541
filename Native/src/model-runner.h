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
    void run(const scheduler_output& out);

    int32_t logits_row(size_t scheduled_index) const { return seq_logits_row_[scheduled_index]; }
    const float* logits(int32_t row) const { return logits_.data() + int64_t(row) * vocab_size_; }

private:
    forward_backend& backend_;
    int32_t vocab_size_;
    batch_builder batch_;                 // reused across steps
    std::vector<int32_t> seq_logits_row_;
    std::vector<float> logits_;           // [n_logits, vocab]
};

}  // namespace olm
