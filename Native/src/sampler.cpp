#include "sampler.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

#include "status.h"

namespace olm {

namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void invalid(const std::string& message) { throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, message); }

}  // namespace

void validate_sampling_params(const sampling_params& p, int32_t vocab_size) {
    if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) invalid("temperature must be a finite number >= 0");
    if (p.top_k < 0) invalid("top_k must be >= 0 (0 = off)");
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) invalid("top_p must be in (0, 1]");
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) invalid("min_p must be in [0, 1]");
    if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty)) invalid("repetition_penalty must be > 0");
    if (!(p.frequency_penalty >= -2.0f && p.frequency_penalty <= 2.0f)) invalid("frequency_penalty must be in [-2, 2]");
    if (!(p.presence_penalty >= -2.0f && p.presence_penalty <= 2.0f)) invalid("presence_penalty must be in [-2, 2]");
    if (p.seed < -1) invalid("seed must be >= 0, or -1 for a random seed");
    if (p.max_tokens <= 0) invalid("max_tokens must be > 0");
    if (p.top_logprobs < 0 || p.top_logprobs > max_top_logprobs) invalid("top_logprobs must be in [0, 20]");
    if (p.top_logprobs > 0 && !p.logprobs) invalid("top_logprobs needs logprobs");
    for (int32_t t : p.stop_token_ids) {
        if (t < 0 || t >= vocab_size) invalid("stop token id " + std::to_string(t) + " is outside the vocabulary");
    }
}

double sampler_uniform(uint64_t seed, int64_t output_index) {
    uint64_t x = splitmix64(splitmix64(seed) ^ uint64_t(output_index));
    return double(x >> 11) * (1.0 / 9007199254740992.0);  // 53 bits
}

sampler::sampler(int32_t vocab_size)
    : vocab_size_(vocab_size), scores_(size_t(vocab_size)), counts_(size_t(vocab_size), 0),
      seen_(size_t(vocab_size), 0) {
    assert(vocab_size > 0);
}

void sampler::apply_penalties(float* scores, const sampling_params& p, const int32_t* tokens,
                              int32_t n_tokens, int32_t n_prompt) {
    if (p.repetition_penalty != 1.0f) {
        for (int32_t i = 0; i < n_tokens; i++) {
            int32_t t = tokens[i];
            if (seen_[t]) continue;
            seen_[t] = 1;
            scores[t] = scores[t] > 0.0f ? scores[t] / p.repetition_penalty : scores[t] * p.repetition_penalty;
        }
        for (int32_t i = 0; i < n_tokens; i++) seen_[tokens[i]] = 0;
    }
    if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
        for (int32_t i = n_prompt; i < n_tokens; i++) counts_[tokens[i]]++;
        for (int32_t i = n_prompt; i < n_tokens; i++) {
            int32_t t = tokens[i];
            if (counts_[t] == 0) continue;  // done already
            scores[t] -= p.frequency_penalty * float(counts_[t]) + p.presence_penalty;
            counts_[t] = 0;
        }
    }
}

sample_result sampler::sample(const float* logits, const sampling_params& p, uint64_t seed,
                              const int32_t* tokens, int32_t n_tokens, int32_t n_prompt) {
    sample_result out;
    const int32_t V = vocab_size_;
    float* s = scores_.data();
    std::copy(logits, logits + V, s);
    apply_penalties(s, p, tokens, n_tokens, n_prompt);

    if (p.temperature == 0.0f || p.top_k == 1) {
        int32_t best = 0;
        for (int32_t i = 1; i < V; i++) {
            if (s[i] > s[best]) best = i;
        }
        out.token_id = best;
    } else {
        // Temperature, then top-k over indices (ties broken by id so the set is well defined).
        std::vector<int32_t>& cand = candidates_;
        cand.resize(size_t(V));
        for (int32_t i = 0; i < V; i++) cand[i] = i;
        auto more_likely = [s](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); };
        if (p.top_k > 0 && p.top_k < V) {
            std::nth_element(cand.begin(), cand.begin() + p.top_k, cand.end(), more_likely);
            cand.resize(size_t(p.top_k));
        }
        float max_score = -INFINITY;
        for (int32_t t : cand) max_score = std::max(max_score, s[t]);
        // probs_ holds unnormalised exp((s - max) / T); min-p compares with the max (which is 1).
        float inv_t = 1.0f / p.temperature;
        std::vector<float>& pr = probs_;
        pr.resize(cand.size());
        size_t kept = 0;
        for (int32_t t : cand) {
            float e = std::exp((s[t] - max_score) * inv_t);
            if (e < p.min_p) continue;
            cand[kept] = t;
            pr[kept++] = e;
        }
        cand.resize(kept);
        double total = 0.0;
        for (size_t i = 0; i < kept; i++) total += pr[i];
        if (p.top_p < 1.0f) {
            // The nucleus is usually a few tokens: sort the most likely 64 first and widen only
            // while their mass falls short (exact, without sorting the whole vocabulary).
            std::vector<size_t> order(kept);
            for (size_t i = 0; i < kept; i++) order[i] = i;
            auto more_probable = [&](size_t a, size_t b) { return pr[a] > pr[b] || (pr[a] == pr[b] && cand[a] < cand[b]); };
            const double target = double(p.top_p) * total;
            size_t n_sorted = std::min<size_t>(kept, 64);
            size_t n_keep = 0;
            double cum = 0.0;
            while (true) {
                std::partial_sort(order.begin(), order.begin() + long(n_sorted), order.end(), more_probable);
                cum = 0.0;
                n_keep = 0;
                while (n_keep < n_sorted && cum < target) cum += pr[order[n_keep++]];
                if (cum >= target || n_sorted == kept) break;
                n_sorted = std::min(kept, n_sorted * 4);
            }
            std::vector<int32_t> top_cand(n_keep);
            std::vector<float> top_pr(n_keep);
            for (size_t i = 0; i < n_keep; i++) {
                top_cand[i] = cand[order[i]];
                top_pr[i] = pr[order[i]];
            }
            cand = top_cand;
            std::copy(top_pr.begin(), top_pr.end(), pr.begin());
            kept = n_keep;
            total = cum;
        }
        double u = sampler_uniform(seed, n_tokens - n_prompt) * total;
        double cum = 0.0;
        out.token_id = cand[kept - 1];
        for (size_t i = 0; i < kept; i++) {
            cum += pr[i];
            if (u < cum) {
                out.token_id = cand[i];
                break;
            }
        }
    }

    if (p.logprobs) {
        float max_logit = -INFINITY;
        for (int32_t i = 0; i < V; i++) max_logit = std::max(max_logit, logits[i]);
        double sum = 0.0;
        for (int32_t i = 0; i < V; i++) sum += std::exp(double(logits[i] - max_logit));
        float log_z = max_logit + float(std::log(sum));
        out.logprob = logits[out.token_id] - log_z;
        if (p.top_logprobs > 0) {
            int32_t n = std::min(p.top_logprobs, V);
            std::vector<int32_t>& idx = candidates_;
            idx.resize(size_t(V));
            for (int32_t i = 0; i < V; i++) idx[i] = i;
            std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [logits](int32_t a, int32_t b) {
                return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
            });
            for (int32_t i = 0; i < n; i++) out.top.push_back({idx[i], logits[idx[i]] - log_z});
        }
    }
    return out;
}

}  // namespace olm
