// request.h: one generation request as the scheduler sees it: tokens so far (prompt + output)
// and how many of them are in the KV cache. No prefill/decode phase: a request is just
// num_computed_tokens catching up with num_tokens().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "block-hash.h"
#include "sampler.h"

namespace olm {

enum class request_status { waiting, running };

// Values match ORLEANSLLM_FINISH_* of the C API.
enum class finish_reason : int32_t { none = 0, stop = 1, length = 2, abort = 3 };

struct request {
    int64_t id = 0;
    std::vector<int32_t> token_ids;     // prompt then output
    int32_t num_prompt_tokens = 0;
    int32_t num_computed_tokens = 0;    // tokens whose K/V are in the cache
    int32_t num_cached_tokens = -1;     // prompt tokens served by the prefix cache at first admission; -1 before
    int32_t priority = 0;               // smaller runs first (vLLM's convention); ties: earlier arrival
    int64_t arrival = 0;                // admission order into the engine
    std::string salt;                   // mixed into block 0's hash (tenant isolation)
    std::vector<block_hash> block_hashes;  // of the full blocks of token_ids, extended lazily
    sampling_params sampling;
    uint64_t seed = 0;                  // the sampler's per-request seed (given or drawn at add time)
    request_status status = request_status::waiting;

    int32_t num_tokens() const { return int32_t(token_ids.size()); }
    int32_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
};

}  // namespace olm
