// context.h: one sequence with a private, contiguous-in-blocks KV cache.
#pragma once

#include <cstdint>
#include <memory>

#include "forward.h"
#include "model.h"

struct orleansllm_context {
    olm::model* model = nullptr;
    std::unique_ptr<olm::kv_storage> kv;
    std::vector<int32_t> block_table;  // [n_blocks] identity mapping: block i holds positions [iB, (i+1)B)
    int32_t n_ctx = 0;
    int32_t n_tokens = 0;
};

namespace olm {

constexpr int32_t kContextBlockSize = 16;
constexpr int32_t kContextEvalChunk = 512;  // tokens per forward: bounds scratch memory for long prompts

void context_eval(orleansllm_context& ctx, const int32_t* tokens, int32_t n_tokens, bool all_logits, float* logits_out);

}  // namespace olm
