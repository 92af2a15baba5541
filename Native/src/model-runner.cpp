#include "model-runner.h"

#include "model.h"

namespace olm {

model_runner::model_runner(const model& m, forward_backend& backend, int32_t block_size_tokens)
    : backend_(backend), vocab_size_(m.config.vocab_size), batch_(block_size_tokens) {}

void model_runner::run(const scheduler_output& out, bool greedy_only) {
    has_greedy_tokens_ = false;
    batch_.clear();
    seq_logits_row_.assign(out.scheduled.size(), -1);
    for (size_t i = 0; i < out.scheduled.size(); i++) {
        const scheduled_request& s = out.scheduled[i];
        const request& r = *s.req;
        const int32_t start = r.num_computed_tokens;
        // A next token is due only when this step computes the request's last token.
        const bool due = start + s.num_new_tokens == r.num_tokens();
        const std::vector<int32_t>& blocks = s.blocks.block_ids;
        seq_logits_row_[i] = batch_.add_sequence(r.token_ids.data() + start, start, s.num_new_tokens, blocks.data(),
                                                 blocks.size(), due ? logits_wanted::last : logits_wanted::none);
    }
    const batch_view b = batch_.view();
    if (b.n_tokens == 0) return;
    if (greedy_only && b.n_logits > 0) {
        greedy_tokens_.resize(size_t(b.n_logits));
        has_greedy_tokens_ = backend_.forward_greedy(b, greedy_tokens_.data());
        if (has_greedy_tokens_) return;
    }
    logits_.resize(size_t(b.n_logits) * size_t(vocab_size_));
    backend_.forward(b, logits_.data());
}

}  // namespace olm
