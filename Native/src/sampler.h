// sampler.h: turns one row of logits into the next token: penalties, greedy or temperature with
// top-k → min-p → top-p, a per-request seed, and log-probabilities of the model's distribution.
#pragma once

#include <cstdint>
#include <vector>

namespace olm {

struct sampling_params {
    float temperature = 1.0f;         // 0 = greedy
    int32_t top_k = 0;                // keep the k most likely; 0 = all
    float top_p = 1.0f;               // (0, 1]: smallest set whose probability reaches top_p
    float min_p = 0.0f;               // [0, 1]: drop tokens below min_p × the most likely's probability
    float repetition_penalty = 1.0f;  // > 0, 1 = off: prompt and output tokens' logits /p if > 0, ×p if not
    float frequency_penalty = 0.0f;   // [-2, 2]: logit -= f × count in the output
    float presence_penalty = 0.0f;    // [-2, 2]: logit -= p if present in the output
    int64_t seed = -1;                // >= 0: reproducible; -1: drawn at random
    int32_t max_tokens = 16;          // output tokens at most; > 0
    std::vector<int32_t> stop_token_ids;  // finish when one is sampled (it is part of the output)
    bool ignore_eos = false;          // when false, the model's eos ids stop too
    bool logprobs = false;            // report the sampled token's log-probability
    int32_t top_logprobs = 0;         // and the n most likely tokens' (0..20)
};

constexpr int32_t max_top_logprobs = 20;

// Throws olm::error(ORLEANSLLM_ERR_INVALID_ARGUMENT) naming the first bad field.
void validate_sampling_params(const sampling_params& p, int32_t vocab_size);

struct token_logprob {
    int32_t token_id;
    float logprob;
};

struct sample_result {
    int32_t token_id = -1;
    float logprob = 0.0f;               // of token_id under the model (raw log-softmax); 0 when not asked
    std::vector<token_logprob> top;     // top_logprobs most likely, descending
};

// Uniform double in [0, 1) that depends only on (seed, output_index): a request's draws do not
// depend on what else is in the batch or on how many steps ran before.
double sampler_uniform(uint64_t seed, int64_t output_index);

class sampler {
public:
    explicit sampler(int32_t vocab_size);

    // logits: [vocab_size], the raw scores of the next token. tokens: [n_tokens] prompt then
    // output so far (n_prompt of them prompt), for penalties and the output index.
    sample_result sample(const float* logits, const sampling_params& p, uint64_t seed,
                         const int32_t* tokens, int32_t n_tokens, int32_t n_prompt);

private:
    void apply_penalties(float* scores, const sampling_params& p, const int32_t* tokens,
                         int32_t n_tokens, int32_t n_prompt);

    int32_t vocab_size_;
    std::vector<float> scores_;      // [vocab] working copy of the logits
    std::vector<int32_t> counts_;    // [vocab] output-token counts, zero between calls
    std::vector<uint8_t> seen_;      // [vocab] prompt-or-output flags, zero between calls
    std::vector<int32_t> candidates_;
    std::vector<float> probs_;
};

}  // namespace olm
