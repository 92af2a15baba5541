// Sampler: greedy, temperature, top-k / top-p / min-p support and mass, seed reproducibility
// independent of other requests, penalties, logprobs, parameter validation.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "sampler.h"
#include "status.h"

namespace {

// A fixed distribution over 8 tokens: probabilities 0.4, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.01.
std::vector<float> logits8() {
    const double p[8] = {0.4, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.01};
    std::vector<float> l(8);
    for (int i = 0; i < 8; i++) l[i] = float(std::log(p[i]) + 3.0);  // shift: softmax-invariant
    return l;
}

// Draws `n` samples with seeds 0..n-1 (one draw each, output index 0) and counts tokens.
std::map<int32_t, int> histogram(olm::sampler& s, const std::vector<float>& logits,
                                 const olm::sampling_params& p, int n) {
    std::map<int32_t, int> counts;
    int32_t prompt[1] = {0};
    for (int i = 0; i < n; i++) counts[s.sample(logits.data(), p, uint64_t(i), prompt, 1, 1).token_id]++;
    return counts;
}

}  // namespace

TEST(Sampler, GreedyIsArgmaxAndTopKOneIsGreedy) {
    olm::sampler s(8);
    std::vector<float> l = {0.1f, 2.0f, -1.0f, 5.0f, 4.9f, 0.0f, 0.0f, 0.0f};
    int32_t prompt[1] = {0};
    olm::sampling_params greedy;
    greedy.temperature = 0.0f;
    EXPECT_EQ(s.sample(l.data(), greedy, 1, prompt, 1, 1).token_id, 3);
    olm::sampling_params k1;
    k1.top_k = 1;
    k1.temperature = 5.0f;
    for (uint64_t seed = 0; seed < 20; seed++) EXPECT_EQ(s.sample(l.data(), k1, seed, prompt, 1, 1).token_id, 3);
}

TEST(Sampler, TemperatureOneMatchesTheModelDistribution) {
    olm::sampler s(8);
    olm::sampling_params p;
    const int n = 20000;
    auto counts = histogram(s, logits8(), p, n);
    const double expected[8] = {0.4, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.01};
    for (int t = 0; t < 8; t++) {
        double f = double(counts[t]) / n;
        double sigma = std::sqrt(expected[t] * (1 - expected[t]) / n);
        EXPECT_NEAR(f, expected[t], 5 * sigma) << "token " << t;
    }
}

TEST(Sampler, TopKKeepsTheKMostLikelyRenormalised) {
    olm::sampler s(8);
    olm::sampling_params p;
    p.top_k = 3;
    const int n = 20000;
    auto counts = histogram(s, logits8(), p, n);
    int outside = 0;
    for (const auto& kv : counts) {
        if (kv.first >= 3) outside += kv.second;
    }
    EXPECT_EQ(outside, 0);
    EXPECT_NEAR(double(counts[0]) / n, 0.4 / 0.75, 0.02);
    EXPECT_NEAR(double(counts[2]) / n, 0.15 / 0.75, 0.02);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingTheMass) {
    olm::sampler s(8);
    olm::sampling_params p;
    p.top_p = 0.7f;  // 0.4 + 0.2 = 0.6 < 0.7, + 0.15 = 0.75 >= 0.7: three tokens
    const int n = 20000;
    auto counts = histogram(s, logits8(), p, n);
    int outside = 0;
    for (const auto& kv : counts) {
        if (kv.first >= 3) outside += kv.second;
    }
    EXPECT_EQ(outside, 0);
    EXPECT_GT(counts[2], 0);
    EXPECT_NEAR(double(counts[1]) / n, 0.2 / 0.75, 0.02);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTop) {
    olm::sampler s(8);
    olm::sampling_params p;
    p.min_p = 0.3f;  // threshold 0.12: keeps 0.4, 0.2, 0.15
    auto counts = histogram(s, logits8(), p, 10000);
    for (const auto& kv : counts) EXPECT_LT(kv.first, 3);
    EXPECT_EQ(counts.size(), 3u);
}

TEST(Sampler, LowTemperatureConcentratesHighTemperatureSpreads) {
    olm::sampler s(8);
    olm::sampling_params cold, hot;
    cold.temperature = 0.2f;
    hot.temperature = 3.0f;
    auto c = histogram(s, logits8(), cold, 5000);
    auto h = histogram(s, logits8(), hot, 5000);
    EXPECT_GT(c[0], 4500);
    EXPECT_LT(h[0], 2000);
    EXPECT_GT(h[7], 100);
}

TEST(Sampler, SameSeedSameTokensWhateverElseIsSampled) {
    const int32_t V = 1000;
    std::vector<float> l(V);
    for (int32_t i = 0; i < V; i++) l[i] = float(std::sin(i * 0.37) * 3.0);
    olm::sampling_params p;
    p.temperature = 0.9f;
    p.top_p = 0.95f;
    std::vector<int32_t> tokens = {1, 2, 3};
    // Alone.
    olm::sampler a(V);
    std::vector<int32_t> alone;
    std::vector<int32_t> seq = tokens;
    for (int i = 0; i < 30; i++) {
        int32_t t = a.sample(l.data(), p, 42, seq.data(), int32_t(seq.size()), 3).token_id;
        alone.push_back(t);
        seq.push_back(t);
    }
    // Interleaved with other requests (other seeds, other params) in a different sampler.
    olm::sampler b(V);
    olm::sampling_params other;
    other.top_k = 5;
    std::vector<int32_t> mixed;
    seq = tokens;
    for (int i = 0; i < 30; i++) {
        b.sample(l.data(), other, 7 + uint64_t(i), seq.data(), int32_t(seq.size()), 3);
        int32_t t = b.sample(l.data(), p, 42, seq.data(), int32_t(seq.size()), 3).token_id;
        b.sample(l.data(), other, 1000, tokens.data(), 3, 3);
        mixed.push_back(t);
        seq.push_back(t);
    }
    EXPECT_EQ(alone, mixed);
    // Another seed gives another sequence.
    std::vector<int32_t> different;
    seq = tokens;
    for (int i = 0; i < 30; i++) {
        int32_t t = a.sample(l.data(), p, 43, seq.data(), int32_t(seq.size()), 3).token_id;
        different.push_back(t);
        seq.push_back(t);
    }
    EXPECT_NE(alone, different);
}

TEST(Sampler, UniformDrawsAreUniform) {
    int buckets[10] = {0};
    for (int i = 0; i < 100000; i++) {
        double u = olm::sampler_uniform(uint64_t(i / 7), i % 7);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        buckets[int(u * 10)]++;
    }
    for (int b : buckets) EXPECT_NEAR(b, 10000, 500);
}

TEST(Sampler, RepetitionPenaltyDemotesSeenTokens) {
    olm::sampler s(4);
    std::vector<float> l = {2.0f, 1.9f, -1.0f, -1.1f};
    olm::sampling_params p;
    p.temperature = 0.0f;
    p.repetition_penalty = 1.2f;  // 2.0 → 1.67 < 1.9
    std::vector<int32_t> tokens = {0, 3};
    EXPECT_EQ(s.sample(l.data(), p, 0, tokens.data(), 2, 2).token_id, 1);
    // Negative logits are multiplied: token 2 (unseen, -1.0) beats token 3 (seen, -1.32).
    std::vector<float> neg = {-5.0f, -5.0f, -1.0f, -0.9f};
    EXPECT_EQ(s.sample(neg.data(), p, 0, tokens.data(), 2, 2).token_id, 2);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountOnlyOutputTokens) {
    olm::sampler s(3);
    std::vector<float> l = {3.0f, 2.5f, 0.0f};
    olm::sampling_params p;
    p.temperature = 0.0f;
    p.frequency_penalty = 0.2f;
    // Token 0 in the prompt only: no penalty.
    std::vector<int32_t> prompt_only = {0, 0, 0};
    EXPECT_EQ(s.sample(l.data(), p, 0, prompt_only.data(), 3, 3).token_id, 0);
    // Output holds token 0 three times: 3.0 - 0.6 = 2.4 < 2.5.
    std::vector<int32_t> with_output = {1, 0, 0, 0};
    EXPECT_EQ(s.sample(l.data(), p, 0, with_output.data(), 4, 1).token_id, 1);
    // Twice: 3.0 - 0.4 = 2.6 > 2.5.
    EXPECT_EQ(s.sample(l.data(), p, 0, with_output.data(), 3, 1).token_id, 0);
    olm::sampling_params presence;
    presence.temperature = 0.0f;
    presence.presence_penalty = 0.6f;  // once is enough: 2.4 < 2.5
    EXPECT_EQ(s.sample(l.data(), presence, 0, with_output.data(), 2, 1).token_id, 1);
}

TEST(Sampler, LogprobsAreTheModelsLogSoftmaxWithSortedTopN) {
    olm::sampler s(8);
    std::vector<float> l = logits8();
    olm::sampling_params p;
    p.temperature = 0.0f;
    p.repetition_penalty = 1.5f;  // logprobs stay those of the raw model distribution
    p.logprobs = true;
    p.top_logprobs = 3;
    int32_t prompt[1] = {0};
    auto r = s.sample(l.data(), p, 0, prompt, 1, 1);
    ASSERT_EQ(r.top.size(), 3u);
    EXPECT_EQ(r.top[0].token_id, 0);
    EXPECT_EQ(r.top[1].token_id, 1);
    EXPECT_EQ(r.top[2].token_id, 2);
    EXPECT_NEAR(r.top[0].logprob, std::log(0.4), 1e-5);
    EXPECT_NEAR(r.top[2].logprob, std::log(0.15), 1e-5);
    EXPECT_NEAR(r.logprob, std::log(r.token_id == 0 ? 0.4 : 0.2), 1e-5);
    EXPECT_EQ(r.token_id, 1) << "0's logit 2.08 / 1.5 falls below 1's 1.39";
}

TEST(Sampler, InvalidParametersAreRejectedWithAMessage) {
    auto check = [](void (*mutate)(olm::sampling_params&), const char* field) {
        olm::sampling_params p;
        mutate(p);
        try {
            olm::validate_sampling_params(p, 100);
            ADD_FAILURE() << field << " accepted";
        } catch (const olm::error& e) {
            EXPECT_EQ(e.status(), ORLEANSLLM_ERR_INVALID_ARGUMENT);
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    };
    check([](olm::sampling_params& p) { p.temperature = -1.0f; }, "temperature");
    check([](olm::sampling_params& p) { p.temperature = NAN; }, "temperature");
    check([](olm::sampling_params& p) { p.top_k = -2; }, "top_k");
    check([](olm::sampling_params& p) { p.top_p = 0.0f; }, "top_p");
    check([](olm::sampling_params& p) { p.top_p = 1.5f; }, "top_p");
    check([](olm::sampling_params& p) { p.min_p = 2.0f; }, "min_p");
    check([](olm::sampling_params& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty");
    check([](olm::sampling_params& p) { p.frequency_penalty = 3.0f; }, "frequency_penalty");
    check([](olm::sampling_params& p) { p.presence_penalty = -3.0f; }, "presence_penalty");
    check([](olm::sampling_params& p) { p.max_tokens = 0; }, "max_tokens");
    check([](olm::sampling_params& p) { p.seed = -5; }, "seed");
    check([](olm::sampling_params& p) { p.logprobs = true; p.top_logprobs = 21; }, "top_logprobs");
    check([](olm::sampling_params& p) { p.stop_token_ids = {100}; }, "stop token");
    olm::sampling_params ok;
    EXPECT_NO_THROW(olm::validate_sampling_params(ok, 100));
}

TEST(Sampler, TopPWidensBeyondTheFirstSortedTokensWhenTheDistributionIsFlat) {
    const int32_t V = 1000;
    std::vector<float> flat(V, 0.5f);  // ties broken by id: the nucleus of 0.5 is tokens 0..499
    olm::sampler s(V);
    olm::sampling_params p;
    p.top_p = 0.5f;
    int32_t prompt[1] = {0};
    int32_t max_seen = 0;
    for (uint64_t seed = 0; seed < 4000; seed++) {
        int32_t t = s.sample(flat.data(), p, seed, prompt, 1, 1).token_id;
        ASSERT_LT(t, 500);
        max_seen = std::max(max_seen, t);
    }
    EXPECT_GT(max_seen, 480);
}
