// test-golden.cpp: the forward pass, through the public C API, against golden logits computed by
// an independent reference (tests/golden/generate.py; each golden.json says what produced it).
//
// For every tests/golden/<name>/golden.json: whole prompts with all logits, one prompt fed a token
// at a time and in two chunks (the KV cache), and last-token logits only. The measure is
// max|Δlogit| / max|logit| over a prompt, below the fixture's tolerance (1e-4 for F32 weights,
// 2e-2 for BF16/F16).
#include "orleansllm.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path golden_root = fs::path(OLM_REPO_ROOT) / "tests" / "golden";

struct golden_fixture {
    std::string name;
    fs::path dir;
    std::string produced_by;
    double tolerance = 0;
    int32_t vocab_size = 0;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<std::vector<float>> logits;  // per prompt: [n_tokens, vocab_size] row-major
};

// Names of the fixture directories (those holding a golden.json), sorted.
std::vector<std::string> fixture_names() {
    std::vector<std::string> names;
    if (!fs::is_directory(golden_root)) return names;
    for (const auto& entry : fs::directory_iterator(golden_root)) {
        if (entry.is_directory() && fs::exists(entry.path() / "golden.json")) {
            names.push_back(entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

golden_fixture load_fixture(const std::string& name) {
    golden_fixture f;
    f.name = name;
    f.dir = golden_root / name;
    std::ifstream in(f.dir / "golden.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    f.produced_by = j.at("produced_by").get<std::string>();
    f.tolerance = j.at("tolerance").get<double>();
    f.prompts = j.at("prompts").get<std::vector<std::vector<int32_t>>>();
    for (const auto& prompt_rows : j.at("logits")) {
        std::vector<float> flat;
        for (const auto& row : prompt_rows) {
            if (f.vocab_size == 0) f.vocab_size = static_cast<int32_t>(row.size());
            for (const auto& v : row) flat.push_back(v.get<float>());
        }
        f.logits.push_back(std::move(flat));
    }
    return f;
}

double max_abs(const float* x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = std::max(m, std::fabs(static_cast<double>(x[i])));
    return m;
}

// max|got - want| over `n` values, divided by `scale` (max|logit| of the whole prompt).
double relative_error(const float* got, const float* want, size_t n, double scale) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        m = std::isnan(d) ? INFINITY : std::max(m, d);
    }
    return m / scale;
}

std::string sanitize(std::string s) {
    for (auto& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

class golden_logits : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        fixture_ = load_fixture(GetParam());
        ASSERT_FALSE(fixture_.prompts.empty());
        ASSERT_EQ(fixture_.prompts.size(), fixture_.logits.size());
        const std::string dir = fixture_.dir.string();
        const int32_t rc = orleansllm_model_load(dir.c_str(), orleansllm_model_default_params(),
                                                 &model_);
        ASSERT_EQ(rc, ORLEANSLLM_OK) << orleansllm_status_name(rc) << ": "
                                     << orleansllm_last_error();
        const int32_t crc = orleansllm_context_init(model_, orleansllm_context_default_params(),
                                                    &context_);
        ASSERT_EQ(crc, ORLEANSLLM_OK) << orleansllm_status_name(crc) << ": "
                                      << orleansllm_last_error();
    }

    void TearDown() override {
        orleansllm_context_free(context_);
        orleansllm_model_free(model_);
    }

    // Index of the longest prompt (the one used for incremental evaluation).
    size_t longest_prompt() const {
        size_t best = 0;
        for (size_t p = 0; p < fixture_.prompts.size(); p++) {
            if (fixture_.prompts[p].size() > fixture_.prompts[best].size()) best = p;
        }
        return best;
    }

    double prompt_scale(size_t p) const {
        return max_abs(fixture_.logits[p].data(), fixture_.logits[p].size());
    }

    // Feeds prompt `p` from a reset context in chunks of the given sizes (all logits) and
    // returns the worst relative error over all rows.
    double eval_in_chunks(size_t p, const std::vector<int32_t>& chunk_sizes) {
        const auto& tokens = fixture_.prompts[p];
        const int32_t vocab = fixture_.vocab_size;
        EXPECT_EQ(orleansllm_context_reset(context_), ORLEANSLLM_OK);
        EXPECT_EQ(orleansllm_context_n_tokens(context_), 0);
        double worst = 0;
        int32_t pos = 0;
        for (const int32_t n : chunk_sizes) {
            std::vector<float> out(static_cast<size_t>(n) * vocab, NAN);
            const int32_t rc = orleansllm_context_eval(context_, tokens.data() + pos, n, 1,
                                                       out.data());
            EXPECT_EQ(rc, ORLEANSLLM_OK) << orleansllm_last_error();
            if (rc != ORLEANSLLM_OK) return INFINITY;
            worst = std::max(worst, relative_error(out.data(),
                                                   fixture_.logits[p].data() +
                                                       static_cast<size_t>(pos) * vocab,
                                                   out.size(), prompt_scale(p)));
            pos += n;
            EXPECT_EQ(orleansllm_context_n_tokens(context_), pos);
        }
        EXPECT_EQ(pos, static_cast<int32_t>(tokens.size()));
        return worst;
    }

    void report(const char* what, double ratio) const {
        std::printf("[golden] %-16s %-22s max|dlogit|/max|logit| = %.3e (tolerance %g)\n",
                    fixture_.name.c_str(), what, ratio, fixture_.tolerance);
    }

    golden_fixture fixture_;
    orleansllm_model* model_ = nullptr;
    orleansllm_context* context_ = nullptr;
};

TEST_P(golden_logits, model_info_matches_config) {
    std::ifstream in(fixture_.dir / "config.json");
    const nlohmann::json config = nlohmann::json::parse(in);
    orleansllm_model_info info{};
    ASSERT_EQ(orleansllm_model_get_info(model_, &info), ORLEANSLLM_OK) << orleansllm_last_error();
    const int32_t heads = config.at("num_attention_heads").get<int32_t>();
    const int32_t hidden = config.at("hidden_size").get<int32_t>();
    EXPECT_EQ(info.vocab_size, config.at("vocab_size").get<int32_t>());
    EXPECT_EQ(info.vocab_size, fixture_.vocab_size);
    EXPECT_EQ(info.hidden_size, hidden);
    EXPECT_EQ(info.n_layers, config.at("num_hidden_layers").get<int32_t>());
    EXPECT_EQ(info.n_heads, heads);
    EXPECT_EQ(info.n_kv_heads, config.at("num_key_value_heads").get<int32_t>());
    EXPECT_EQ(info.head_dim, config.value("head_dim", hidden / heads));
    EXPECT_EQ(info.max_position_embeddings, config.at("max_position_embeddings").get<int32_t>());
    EXPECT_EQ(info.bos_token_id, config.at("bos_token_id").get<int32_t>());
    std::vector<int32_t> eos;
    if (config.at("eos_token_id").is_array()) {
        eos = config.at("eos_token_id").get<std::vector<int32_t>>();
    } else {
        eos.push_back(config.at("eos_token_id").get<int32_t>());
    }
    ASSERT_EQ(info.n_eos_token_ids, static_cast<int32_t>(eos.size()));
    for (size_t i = 0; i < eos.size(); i++) EXPECT_EQ(info.eos_token_ids[i], eos[i]);
    const std::string dtype = config.at("torch_dtype").get<std::string>();
    EXPECT_EQ(info.weight_dtype, dtype == "float32" ? 0 : dtype == "float16" ? 1 : 2) << dtype;
    EXPECT_GT(info.weight_bytes, 0);
    EXPECT_GT(info.kv_bytes_per_token, 0);
}

TEST_P(golden_logits, whole_prompts) {
    const int32_t vocab = fixture_.vocab_size;
    double worst = 0;
    for (size_t p = 0; p < fixture_.prompts.size(); p++) {
        const auto& tokens = fixture_.prompts[p];
        ASSERT_EQ(orleansllm_context_reset(context_), ORLEANSLLM_OK) << orleansllm_last_error();
        std::vector<float> out(tokens.size() * vocab, NAN);
        const int32_t rc = orleansllm_context_eval(context_, tokens.data(),
                                                   static_cast<int32_t>(tokens.size()), 1,
                                                   out.data());
        ASSERT_EQ(rc, ORLEANSLLM_OK) << orleansllm_status_name(rc) << ": "
                                     << orleansllm_last_error();
        EXPECT_EQ(orleansllm_context_n_tokens(context_), static_cast<int32_t>(tokens.size()));
        const double ratio = relative_error(out.data(), fixture_.logits[p].data(), out.size(),
                                            prompt_scale(p));
        EXPECT_LT(ratio, fixture_.tolerance) << "prompt " << p << " (" << tokens.size()
                                             << " tokens), reference: " << fixture_.produced_by;
        worst = std::max(worst, ratio);
    }
    report("whole prompts", worst);
}

TEST_P(golden_logits, one_token_at_a_time) {
    const size_t p = longest_prompt();
    const std::vector<int32_t> chunks(fixture_.prompts[p].size(), 1);
    const double ratio = eval_in_chunks(p, chunks);
    EXPECT_LT(ratio, fixture_.tolerance);
    report("one token at a time", ratio);
}

TEST_P(golden_logits, two_chunks) {
    const size_t p = longest_prompt();
    const int32_t n = static_cast<int32_t>(fixture_.prompts[p].size());
    ASSERT_GE(n, 2);
    const double ratio = eval_in_chunks(p, {n / 3 + 1, n - (n / 3 + 1)});
    EXPECT_LT(ratio, fixture_.tolerance);
    report("two chunks", ratio);
}

TEST_P(golden_logits, last_token_only) {
    const int32_t vocab = fixture_.vocab_size;
    double worst = 0;
    for (size_t p = 0; p < fixture_.prompts.size(); p++) {
        const auto& tokens = fixture_.prompts[p];
        const int32_t n = static_cast<int32_t>(tokens.size());
        ASSERT_EQ(orleansllm_context_reset(context_), ORLEANSLLM_OK);
        // One spare row of sentinels shows a write past [vocab_size].
        std::vector<float> out(2 * static_cast<size_t>(vocab), NAN);
        out[vocab] = 12345.0f;
        ASSERT_EQ(orleansllm_context_eval(context_, tokens.data(), n, 0, out.data()),
                  ORLEANSLLM_OK)
            << orleansllm_last_error();
        EXPECT_EQ(out[vocab], 12345.0f) << "logits written past the last token's row";
        const double ratio = relative_error(
            out.data(), fixture_.logits[p].data() + static_cast<size_t>(n - 1) * vocab, vocab,
            prompt_scale(p));
        EXPECT_LT(ratio, fixture_.tolerance) << "prompt " << p;
        worst = std::max(worst, ratio);
    }
    report("last token only", worst);
}

// Two contexts over one model, fed alternately a token at a time: each keeps its own KV cache.
TEST_P(golden_logits, two_contexts_interleaved) {
    ASSERT_GE(fixture_.prompts.size(), 2u);
    const size_t a = longest_prompt(), b = a == 0 ? 1 : 0;
    orleansllm_context* other = nullptr;
    ASSERT_EQ(orleansllm_context_init(model_, orleansllm_context_default_params(), &other),
              ORLEANSLLM_OK);
    ASSERT_EQ(orleansllm_context_reset(context_), ORLEANSLLM_OK);
    const int32_t vocab = fixture_.vocab_size;
    std::vector<float> out(vocab);
    double worst = 0;
    const size_t steps = std::max(fixture_.prompts[a].size(), fixture_.prompts[b].size());
    for (size_t i = 0; i < steps; i++) {
        for (const size_t p : {a, b}) {
            if (i >= fixture_.prompts[p].size()) continue;
            orleansllm_context* ctx = p == a ? context_ : other;
            ASSERT_EQ(orleansllm_context_eval(ctx, &fixture_.prompts[p][i], 1, 1, out.data()),
                      ORLEANSLLM_OK)
                << orleansllm_last_error();
            worst = std::max(worst, relative_error(out.data(),
                                                   fixture_.logits[p].data() + i * vocab, vocab,
                                                   prompt_scale(p)));
        }
    }
    orleansllm_context_free(other);
    EXPECT_LT(worst, fixture_.tolerance);
    report("two contexts", worst);
}

// Thread counts that split rows and heads unevenly give the same logits, with the weights in
// huge-page memory (odd counts) or left in the memory map (the even count).
TEST_P(golden_logits, uneven_thread_counts_and_both_weight_memories) {
    const size_t p = longest_prompt();
    const auto& tokens = fixture_.prompts[p];
    double worst = 0;
    for (const int32_t n_threads : {1, 3, 4, 5}) {
        orleansllm_model_params params = orleansllm_model_default_params();
        params.n_threads = n_threads;
        params.use_mmap = n_threads % 2 == 0 ? 1 : 0;
        orleansllm_model* model = nullptr;
        orleansllm_context* context = nullptr;
        ASSERT_EQ(orleansllm_model_load(fixture_.dir.string().c_str(), params, &model),
                  ORLEANSLLM_OK)
            << orleansllm_last_error();
        ASSERT_EQ(orleansllm_context_init(model, orleansllm_context_default_params(), &context),
                  ORLEANSLLM_OK);
        std::vector<float> out(tokens.size() * fixture_.vocab_size, NAN);
        EXPECT_EQ(orleansllm_context_eval(context, tokens.data(),
                                          static_cast<int32_t>(tokens.size()), 1, out.data()),
                  ORLEANSLLM_OK)
            << orleansllm_last_error();
        const double ratio = relative_error(out.data(), fixture_.logits[p].data(), out.size(),
                                            prompt_scale(p));
        EXPECT_LT(ratio, fixture_.tolerance) << n_threads << " threads";
        worst = std::max(worst, ratio);
        orleansllm_context_free(context);
        orleansllm_model_free(model);
    }
    report("1, 3, 4 (mmap), 5 threads", worst);
}

INSTANTIATE_TEST_SUITE_P(tests_golden, golden_logits, ::testing::ValuesIn(fixture_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return sanitize(info.param);
                         });

// The fixture set itself: the required configurations are present and well formed.
TEST(golden_fixtures, cover_required_configurations) {
    const auto names = fixture_names();
    ASSERT_GE(names.size(), 6u) << "no fixtures under " << golden_root;
    for (const char* required : {"llama", "llama3", "mistral", "qwen2", "qwen3", "tied",
                                 "llama_head_dim", "sharded", "llama_bf16"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
    }
    bool has_gqa = false, has_odd_head_dim = false, has_tied = false, has_bf16 = false;
    for (const auto& name : names) {
        const golden_fixture f = load_fixture(name);
        EXPECT_GE(f.prompts.size(), 3u) << name;
        EXPECT_NE(f.produced_by.find("generate.py"), std::string::npos) << name;
        for (size_t p = 0; p < f.prompts.size(); p++) {
            EXPECT_EQ(f.logits[p].size(), f.prompts[p].size() * f.vocab_size) << name;
            // Logits of useful size: neither ~0 nor exploding.
            const double scale = max_abs(f.logits[p].data(), f.logits[p].size());
            EXPECT_GT(scale, 1.0) << name;
            EXPECT_LT(scale, 100.0) << name;
        }
        std::ifstream in(f.dir / "config.json");
        const nlohmann::json c = nlohmann::json::parse(in);
        const int32_t heads = c.at("num_attention_heads").get<int32_t>();
        const int32_t kv_heads = c.at("num_key_value_heads").get<int32_t>();
        has_gqa |= kv_heads >= 2 && kv_heads < heads;
        has_odd_head_dim |= c.contains("head_dim") &&
                            c.at("head_dim").get<int32_t>() !=
                                c.at("hidden_size").get<int32_t>() / heads;
        has_tied |= c.value("tie_word_embeddings", false);
        has_bf16 |= c.at("torch_dtype").get<std::string>() == "bfloat16";
    }
    EXPECT_TRUE(has_gqa);
    EXPECT_TRUE(has_odd_head_dim);
    EXPECT_TRUE(has_tied);
    EXPECT_TRUE(has_bf16);
}

}  // namespace
