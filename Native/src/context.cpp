#include "context.h"

#include <algorithm>
#include <string>

#include "model.h"
#include "status.h"
#include "thread-pool.h"

namespace olm {

namespace {

int32_t blocks_for(int32_t n_ctx) { return (n_ctx + kContextBlockSize - 1) / kContextBlockSize; }

}  // namespace

context::context(const model& model, int32_t n_ctx, dtype kv_type)
    : m(model), n_ctx(n_ctx), kv(model, blocks_for(n_ctx), kContextBlockSize, kv_type),
      block_table(size_t(blocks_for(n_ctx))), batch(kContextBlockSize) {
    for (size_t i = 0; i < block_table.size(); ++i) block_table[i] = int32_t(i);
}

void context_eval(context& ctx, const int32_t* tokens, int32_t n_tokens, bool all_logits, float* logits_out) {
    const model& m = ctx.m;
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
        const logits_wanted wanted = all_logits ? logits_wanted::all : last_chunk ? logits_wanted::last : logits_wanted::none;
        ctx.batch.clear();
        ctx.batch.add_sequence(tokens + done, ctx.n_tokens, n, ctx.block_table.data(), ctx.block_table.size(), wanted);
        float* out = all_logits ? logits_out + int64_t(done) * vocab : logits_out;
        forward(m, ctx.kv, ctx.batch.view(), *m.pool, out);
        ctx.n_tokens += n;
        done += n;
    }
}

}  // namespace olm
