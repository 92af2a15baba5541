// The 8-bit KV cache (kv_cache_dtype = ORLEANSLLM_DTYPE_KV_INT8) through the C API: its sizes
// (model info, blocks per budget), its errors (an unknown type, the cuda backend), and the logits
// it gives against a BF16 cache. The serving-core behaviour with it is test-engine.cpp's EngineKv
// suite; the kernels are test-cpu-kernels.cpp / test-avx512-kernels.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "model.h"
#include "orleansllm.h"
#include "quant.h"
#include "status.h"

namespace {

std::string golden(const char* name) { return std::string(OLM_REPO_ROOT) + "/tests/golden/" + name; }

orleansllm_model* load(const char* name, int32_t kv_cache_dtype = 0) {
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = 2;
    mp.kv_cache_dtype = kv_cache_dtype;
    orleansllm_model* m = nullptr;
    EXPECT_EQ(orleansllm_model_load(golden(name).c_str(), mp, &m), ORLEANSLLM_OK) << orleansllm_last_error();
    return m;
}

// All logits rows of `tokens` evaluated in a context whose cache is kv_cache_dtype.
std::vector<float> context_logits(orleansllm_model* m, int32_t kv_cache_dtype, const std::vector<int32_t>& tokens, int32_t vocab) {
    orleansllm_context_params cp = orleansllm_context_default_params();
    cp.n_ctx = int32_t(tokens.size());
    cp.kv_cache_dtype = kv_cache_dtype;
    orleansllm_context* ctx = nullptr;
    EXPECT_EQ(orleansllm_context_init(m, cp, &ctx), ORLEANSLLM_OK) << orleansllm_last_error();
    std::vector<float> logits(tokens.size() * size_t(vocab));
    EXPECT_EQ(orleansllm_context_eval(ctx, tokens.data(), int32_t(tokens.size()), 1, logits.data()), ORLEANSLLM_OK)
        << orleansllm_last_error();
    orleansllm_context_free(ctx);
    return logits;
}

}  // namespace

// The row quantizer on hand-worked rows: scale = amax / 127 in float32 after the values, round
// half away from zero, a zero row stays zero (scale 0, no division by zero).
TEST(KvInt8, RowQuantizerFollowsTheDocumentedRule) {
    std::vector<float> x(16, 0.0f);
    x[0] = 2.54f;    // amax: q = 127
    x[1] = -2.54f;   // q = -127
    x[2] = 0.03f;    // 0.03 / 0.02 = 1.5: half away from zero, 2
    x[3] = -0.03f;   // -2
    x[4] = 0.0099f;  // 0.495: 0
    std::vector<uint8_t> row(size_t(olm::kv_row_bytes(olm::dtype::kv_int8, 16)));
    ASSERT_EQ(row.size(), 20u);
    olm::quantize_kv_int8_row(x.data(), 16, row.data());
    const auto* q = reinterpret_cast<const int8_t*>(row.data());
    float scale;
    std::memcpy(&scale, row.data() + 16, sizeof(float));
    EXPECT_EQ(scale, 2.54f / 127.0f);
    EXPECT_EQ(q[0], 127);
    EXPECT_EQ(q[1], -127);
    EXPECT_EQ(q[2], 2);
    EXPECT_EQ(q[3], -2);
    EXPECT_EQ(q[4], 0);
    std::vector<float> back(16);
    olm::dequantize_kv_int8_row(row.data(), 16, back.data());
    for (size_t i = 0; i < 16; ++i) EXPECT_LE(std::fabs(back[i] - x[i]), scale / 2 * 1.0001f) << i;

    std::fill(x.begin(), x.end(), 0.0f);
    olm::quantize_kv_int8_row(x.data(), 16, row.data());
    std::memcpy(&scale, row.data() + 16, sizeof(float));
    EXPECT_EQ(scale, 0.0f);
    for (int i = 0; i < 16; ++i) EXPECT_EQ(q[i], 0);
}

TEST(KvInt8, ModelInfoAndTheBudgetCountInt8Rows) {
    orleansllm_model* bf16 = load("llama_bf16");
    orleansllm_model* int8 = load("llama_bf16", ORLEANSLLM_DTYPE_KV_INT8);
    orleansllm_model_info a, b;
    ASSERT_EQ(orleansllm_model_get_info(bf16, &a), ORLEANSLLM_OK);
    ASSERT_EQ(orleansllm_model_get_info(int8, &b), ORLEANSLLM_OK);
    // K and V, per layer and KV head: head_dim bytes and a float scale instead of 2 × head_dim.
    EXPECT_EQ(a.kv_bytes_per_token, int64_t(2) * a.n_layers * a.n_kv_heads * a.head_dim * 2);
    EXPECT_EQ(b.kv_bytes_per_token, int64_t(2) * b.n_layers * b.n_kv_heads * (b.head_dim + 4));

    // The same budget buys (2 × head_dim) / (head_dim + 4) times the blocks: the model's choice and
    // an engine's own kv_cache_dtype agree.
    orleansllm_engine_params ep = orleansllm_engine_default_params();
    ep.kv_cache_bytes = 64 * 16 * a.kv_bytes_per_token;  // 64 BF16 blocks of 16 tokens
    const auto blocks = [&](orleansllm_model* m, int32_t kv) {
        ep.kv_cache_dtype = kv;
        orleansllm_engine* e = nullptr;
        EXPECT_EQ(orleansllm_engine_init(m, ep, &e), ORLEANSLLM_OK) << orleansllm_last_error();
        orleansllm_engine_stats st{};
        EXPECT_EQ(orleansllm_engine_get_stats(e, &st), ORLEANSLLM_OK);
        orleansllm_engine_free(e);
        return st.n_blocks_total;
    };
    EXPECT_EQ(blocks(bf16, 0), 64);
    const int32_t expected = int32_t(ep.kv_cache_bytes / (16 * b.kv_bytes_per_token));
    EXPECT_EQ(blocks(bf16, ORLEANSLLM_DTYPE_KV_INT8), expected);
    EXPECT_EQ(blocks(int8, 0), expected);
    EXPECT_EQ(blocks(int8, ORLEANSLLM_DTYPE_BF16), 64);
    EXPECT_GE(expected, 64 * 2 * a.head_dim / (a.head_dim + 4));
    orleansllm_model_free(int8);
    orleansllm_model_free(bf16);
}

TEST(KvInt8, AnUnsupportedTypeIsAClearError) {
    orleansllm_model* m = load("llama");
    orleansllm_engine_params ep = orleansllm_engine_default_params();
    ep.kv_cache_bytes = 1 << 20;
    ep.kv_cache_dtype = ORLEANSLLM_DTYPE_Q8_0;
    orleansllm_engine* e = nullptr;
    EXPECT_EQ(orleansllm_engine_init(m, ep, &e), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_EQ(e, nullptr);
    EXPECT_NE(std::string(orleansllm_last_error()).find("kv_cache_dtype 3 is not supported"), std::string::npos)
        << orleansllm_last_error();

    orleansllm_context_params cp = orleansllm_context_default_params();
    cp.n_ctx = 16;
    cp.kv_cache_dtype = 42;
    orleansllm_context* ctx = nullptr;
    EXPECT_EQ(orleansllm_context_init(m, cp, &ctx), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(orleansllm_last_error()).find("kv_cache_dtype 42"), std::string::npos) << orleansllm_last_error();

    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.kv_cache_dtype = -1;
    orleansllm_model* bad = nullptr;
    EXPECT_EQ(orleansllm_model_load(golden("llama").c_str(), mp, &bad), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_EQ(bad, nullptr);
    orleansllm_model_free(m);
}

// The CUDA kernels keep a BF16 cache: an INT8 cache on the cuda backend is refused by name,
// whether or not a device is present, before anything is uploaded.
TEST(KvInt8, TheCudaBackendRefusesIt) {
    orleansllm_model* m = load("llama");
    orleansllm_engine_params ep = orleansllm_engine_default_params();
    ep.kv_cache_bytes = 1 << 20;
    ep.backend = ORLEANSLLM_BACKEND_CUDA;
    ep.kv_cache_dtype = ORLEANSLLM_DTYPE_KV_INT8;
    orleansllm_engine* e = nullptr;
    EXPECT_EQ(orleansllm_engine_init(m, ep, &e), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(orleansllm_last_error()).find("not supported by the cuda backend"), std::string::npos)
        << orleansllm_last_error();
    orleansllm_model_free(m);
}

// Logits with an INT8 cache against a BF16 cache, every position of a 200-token sequence, on the
// random tiny models (head_dim 16; random weights spread attention over many keys, and their keys
// lack the outlier channels of a real checkpoint's, so this checks the arithmetic, not real-model
// accuracy: `bench engine --scenario long-context` measures that as a KL divergence).
// Why the bound holds: each cached value is off by at most amax/254 of its row (0.4% of the row's
// largest element; BF16 is off by at most 2^-9 relative); the errors are independent across
// elements and tokens, so they average out in the q·k dot products and in the softmax-weighted sum
// of V, and two layers do not amplify them much. Measured when written: max |Δlogit| / max |logit|
// 0.012–0.023, min row cosine 0.99987–0.99995. The bounds leave about 3× room and stay tighter
// than Q8_0 weights on the same models (min cosine 0.99921 against F32, test-quant-model).
TEST(KvInt8, LogitsStayCloseToTheBf16Cache) {
    for (const char* name : {"llama", "llama_bf16", "qwen2", "qwen3_bf16"}) {
        orleansllm_model* m = load(name);
        orleansllm_model_info info;
        ASSERT_EQ(orleansllm_model_get_info(m, &info), ORLEANSLLM_OK);
        std::vector<int32_t> tokens;
        for (int32_t i = 0; i < 200; ++i) tokens.push_back(3 + (i * 37 + 11) % (info.vocab_size - 3));
        const std::vector<float> ref = context_logits(m, ORLEANSLLM_DTYPE_BF16, tokens, info.vocab_size);
        const std::vector<float> q8 = context_logits(m, ORLEANSLLM_DTYPE_KV_INT8, tokens, info.vocab_size);
        double worst_rel = 0, worst_cos = 1;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const float* a = ref.data() + t * size_t(info.vocab_size);
            const float* b = q8.data() + t * size_t(info.vocab_size);
            double dot = 0, na = 0, nb = 0, amax = 0, dmax = 0;
            for (int32_t i = 0; i < info.vocab_size; ++i) {
                dot += double(a[i]) * b[i];
                na += double(a[i]) * a[i];
                nb += double(b[i]) * b[i];
                amax = std::max(amax, double(std::fabs(a[i])));
                dmax = std::max(dmax, double(std::fabs(a[i] - b[i])));
            }
            worst_rel = std::max(worst_rel, dmax / amax);
            worst_cos = std::min(worst_cos, dot / std::sqrt(na * nb));
        }
        std::printf("%s: max |dlogit| / max |logit| %.5f, min row cosine %.6f\n", name, worst_rel, worst_cos);
        EXPECT_LE(worst_rel, 0.07) << name;
        EXPECT_GE(worst_cos, 0.9995) << name;
        orleansllm_model_free(m);
    }
}
