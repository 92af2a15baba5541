// context.h: one sequence with a private KV cache whose blocks are in order (block i holds
// positions [iB, (i+1)B)), for evaluation, golden tests and perplexity. Serving uses the engine.
#pragma once

#include <cstdint>
#include <vector>

#include "batch.h"
#include "forward.h"

namespace olm {

struct model;

constexpr int32_t kContextBlockSize = 16;
constexpr int32_t kContextEvalChunk = 512;  // tokens per forward: bounds scratch memory for long prompts

struct context {
    // Room for n_ctx tokens (validated by the caller) in a KV cache of kv_type. `m` must outlive
    // the context.
    context(const model& m, int32_t n_ctx, dtype kv_type);

    const model& m;
    int32_t n_ctx;
    int32_t n_tokens = 0;
    kv_storage kv;
    std::vector<int32_t> block_table;  // identity: block i at index i
    batch_builder batch;
};

void context_eval(context& ctx, const int32_t* tokens, int32_t n_tokens, bool all_logits, float* logits_out);

}  // namespace olm
