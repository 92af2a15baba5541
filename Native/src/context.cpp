#include "context.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "status.h"
#include "thread-pool.h"

namespace olm {

void context_eval(orleansllm_context& ctx, const int32_t* tokens, int32_t n_tokens, bool all_logits, float* logits_out) {
    const model& m = *ctx.model;
    const int32_t vocab = m.config.vocab_size;
    if (n_tokens <= 0) throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "n_tokens must be positive");
    if (tokens == nullptr || logits_out == nullptr) throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "tokens and logits_out must not be NULL");
    for (int32_t i = 0; i < n_tokens; ++i) {
        if (tokens[i] < 0 || tokens[i] >= vocab) {
            throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                                                             " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
        }
    }
    if (int64_t(ctx.n_tokens) + n_tokens > ctx.n_ctx) {
        throw error(ORLEANSLLM_ERR_CAPACITY, "context holds " + std::to_string(ctx.n_tokens) + " tokens; " + std::to_string(n_tokens) +
                                                 " more exceed n_ctx " + std::to_string(ctx.n_ctx));
    }
    for (int32_t done = 0; done < n_tokens;) {
        const int32_t n = std::min(kContextEvalChunk, n_tokens - done);
        const bool last_chunk = done + n == n_tokens;
        std::vector<int32_t> positions(static_cast<size_t>(n));
        std::vector<int64_t> slots(static_cast<size_t>(n));
        for (int32_t i = 0; i < n; ++i) {
            positions[size_t(i)] = ctx.n_tokens + i;
            slots[size_t(i)] = ctx.n_tokens + i;  // identity block table: slot == position
        }
        const int32_t query_start[2] = {0, n};
        const int32_t context_len = ctx.n_tokens + n;
        const int32_t n_blocks_used = (context_len + kContextBlockSize - 1) / kContextBlockSize;
        const int32_t block_indptr[2] = {0, n_blocks_used};
        std::vector<int32_t> rows;
        if (all_logits) {
            rows.resize(size_t(n));
            std::iota(rows.begin(), rows.end(), 0);
        } else if (last_chunk) {
            rows.push_back(n - 1);
        }
        batch_view b;
        b.n_tokens = n;
        b.token_ids = tokens + done;
        b.positions = positions.data();
        b.slot_mapping = slots.data();
        b.n_seqs = 1;
        b.query_start = query_start;
        b.context_lens = &context_len;
        b.block_indptr = block_indptr;
        b.block_indices = ctx.block_table.data();
        b.n_logits = static_cast<int32_t>(rows.size());
        b.logits_rows = rows.data();
        float* out = all_logits ? logits_out + int64_t(done) * vocab : logits_out;
        forward(m, *ctx.kv, b, *m.pool, out);
        ctx.n_tokens += n;
        done += n;
    }
}

}  // namespace olm
