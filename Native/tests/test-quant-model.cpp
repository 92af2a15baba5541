// test-quant-model.cpp: quantized models end to end. Golden HF models (tests/golden/) are
// - written as Q8_0 / Q4_0 GGUF files (gguf-writer.h with the engine's quantizer) and loaded: their
//   logits stay close to the float model's, Q8_0 closer than Q4_0;
// - quantized at load (orleansllm_model_params.weight_type): the same logits as the quantized GGUF
//   file, bit for bit (same blocks, same kernels; the llama Q/K permutation is a row copy);
// and bad requests fail with a status and a message.
#include "orleansllm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "c-api-handles.h"
#include "cpu/cpu-features.h"
#include "gguf-writer.h"
#include "model.h"

namespace {

namespace fs = std::filesystem;
using namespace gguf_test;

const fs::path golden_root = fs::path(OLM_REPO_ROOT) / "tests" / "golden";

struct loaded {
    std::vector<std::vector<float>> logits;  // per prompt: [tokens, vocab]
    orleansllm_model_info info{};
};

loaded eval_prompts(const fs::path& path, const std::vector<std::vector<int32_t>>& prompts, int32_t weight_type = 0) {
    orleansllm_model_params params = orleansllm_model_default_params();
    params.weight_type = weight_type;
    orleansllm_model* model = nullptr;
    orleansllm_context* context = nullptr;
    loaded out;
    if (orleansllm_model_load(path.string().c_str(), params, &model) != ORLEANSLLM_OK ||
        orleansllm_context_init(model, orleansllm_context_default_params(), &context) != ORLEANSLLM_OK) {
        ADD_FAILURE() << path << ": " << orleansllm_last_error();
        orleansllm_model_free(model);
        return out;
    }
    EXPECT_EQ(orleansllm_model_get_info(model, &out.info), ORLEANSLLM_OK);
    for (const auto& tokens : prompts) {
        std::vector<float> logits(tokens.size() * size_t(out.info.vocab_size), NAN);
        orleansllm_context_reset(context);
        EXPECT_EQ(orleansllm_context_eval(context, tokens.data(), int32_t(tokens.size()), 1, logits.data()), ORLEANSLLM_OK)
            << orleansllm_last_error();
        out.logits.push_back(std::move(logits));
    }
    orleansllm_context_free(context);
    orleansllm_model_free(model);
    return out;
}

std::vector<std::vector<int32_t>> golden_prompts(const std::string& fixture) {
    const auto golden = nlohmann::json::parse(read_text(golden_root / fixture / "golden.json"));
    return golden.at("prompts").get<std::vector<std::vector<int32_t>>>();
}

// The smallest cosine similarity between corresponding logit rows (one row per token).
double min_row_cosine(const loaded& a, const loaded& b) {
    double worst = 1;
    const size_t vocab = size_t(a.info.vocab_size);
    for (size_t p = 0; p < a.logits.size(); ++p) {
        for (size_t r = 0; r < a.logits[p].size() / vocab; ++r) {
            double dot = 0, na = 0, nb = 0;
            for (size_t i = r * vocab; i < (r + 1) * vocab; ++i) {
                dot += double(a.logits[p][i]) * b.logits[p][i];
                na += double(a.logits[p][i]) * a.logits[p][i];
                nb += double(b.logits[p][i]) * b.logits[p][i];
            }
            const double c = dot / std::sqrt(na * nb);
            worst = std::isnan(c) ? -1 : std::min(worst, c);
        }
    }
    return worst;
}

class quantized_model : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "olm-quant-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    fs::path write_gguf(const std::string& fixture, olm::dtype type) {
        convert_options o;
        o.matrices = type;
        const fs::path p = root_ / (fixture + "-" + olm::dtype_name(type) + ".gguf");
        write_bytes(p, gguf_from_hf(golden_root / fixture, o).build());
        return p;
    }
    fs::path root_;
};

TEST_P(quantized_model, gguf_close_to_float_and_equal_to_quantizing_at_load) {
    const std::string fixture = GetParam();
    const auto prompts = golden_prompts(fixture);
    const loaded reference = eval_prompts(golden_root / fixture, prompts);
    ASSERT_FALSE(reference.logits.empty());
    double cosine[2];
    int i = 0;
    for (const auto& [type, api_type] : {std::pair{olm::dtype::q8_0, ORLEANSLLM_DTYPE_Q8_0}, std::pair{olm::dtype::q4_0, ORLEANSLLM_DTYPE_Q4_0}}) {
        const loaded file = eval_prompts(write_gguf(fixture, type), prompts);
        const loaded at_load = eval_prompts(golden_root / fixture, prompts, api_type);
        ASSERT_EQ(file.logits.size(), prompts.size());
        EXPECT_EQ(file.info.weight_dtype, api_type);
        EXPECT_EQ(at_load.info.weight_dtype, api_type);
        EXPECT_EQ(file.info.weight_bytes, at_load.info.weight_bytes);
        EXPECT_LT(double(at_load.info.weight_bytes), reference.info.weight_bytes * (type == olm::dtype::q8_0 ? 0.27 : 0.15))
            << "F32 → " << olm::dtype_name(type) << ": 34 / 128 or 18 / 128 of the bytes";
        for (size_t p = 0; p < prompts.size(); ++p) {
            EXPECT_EQ(file.logits[p], at_load.logits[p]) << olm::dtype_name(type) << " prompt " << p
                                                         << ": the GGUF file and quantizing at load differ";
        }
        cosine[i] = min_row_cosine(reference, file);
        std::printf("[quant] %s %s: min logit-row cosine vs F32 %.6f\n", fixture.c_str(), olm::dtype_name(type), cosine[i]);
        ++i;
    }
    EXPECT_GT(cosine[0], 0.999) << "Q8_0";
    // Q4_0 on these tiny random-weight models: 0.89–0.95 measured (4 bits of a Gaussian block
    // leave ~9% noise per weight); real checkpoints: docs/QUANTIZATION.md.
    EXPECT_GT(cosine[1], 0.85) << "Q4_0";
    EXPECT_GT(cosine[0], cosine[1]) << "Q8_0 is closer to the float model than Q4_0";
}

// On AVX-512 VNNI CPUs the loader hands back the original Q8_0 / Q4_0 blocks of every matrix it
// packed for the GEMM (model.cpp): the packed copy alone gives the same logits, bit for bit, as
// the model that keeps both (ORLEANSLLM_KEEP_PACKED_SOURCES=1), and only the embedding's blocks,
// which token lookups read, stay.
TEST_P(quantized_model, releasing_the_packed_matrices_originals_changes_no_logit) {
    if (!olm::cpu_has_avx512_vnni()) GTEST_SKIP() << "no packed copies without AVX512_VNNI";
    const std::string fixture = GetParam();
    const auto prompts = golden_prompts(fixture);
    for (const olm::dtype type : {olm::dtype::q8_0, olm::dtype::q4_0}) {
        const fs::path path = write_gguf(fixture, type);
        orleansllm_model* model = nullptr;
        ASSERT_EQ(orleansllm_model_load(path.string().c_str(), orleansllm_model_default_params(), &model), ORLEANSLLM_OK)
            << orleansllm_last_error();
        const olm::model& m = *model->impl;
        int64_t released_matrices = 0, matrix_bytes = 0;
        for (const auto& l : m.layers)
            for (const olm::matrix* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) {
                EXPECT_NE(w->packed, nullptr);
                released_matrices += w->data == nullptr;
                matrix_bytes += w->bytes();
            }
        EXPECT_EQ(released_matrices, int64_t(m.layers.size()) * 7) << olm::dtype_name(type);
        EXPECT_NE(m.embed.data, nullptr);
        // whole 4 KiB pages inside the matrices only (this tiny model's are mostly smaller than
        // a page; llama3-1b's figures: docs/QUANTIZATION.md, "Memory")
        EXPECT_EQ(m.released_weight_bytes % 4096, 0);
        EXPECT_LE(m.released_weight_bytes, matrix_bytes + m.lm_head.bytes()) << olm::dtype_name(type);
        orleansllm_model_free(model);

        const loaded released = eval_prompts(path, prompts);
        setenv("ORLEANSLLM_KEEP_PACKED_SOURCES", "1", 1);
        const loaded kept = eval_prompts(path, prompts);
        unsetenv("ORLEANSLLM_KEEP_PACKED_SOURCES");
        ASSERT_EQ(released.logits.size(), prompts.size());
        for (size_t p = 0; p < prompts.size(); ++p)
            EXPECT_EQ(released.logits[p], kept.logits[p]) << olm::dtype_name(type) << " prompt " << p;
    }
}

// llama (64-wide, llama Q/K permutation), qwen2 (biases), qwen3 (q/k norms).
INSTANTIATE_TEST_SUITE_P(golden, quantized_model, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(QuantizedModelLoad, RowsThatAreNotWholeBlocksStayAsStored) {
    // tests/golden/tied: hidden 48 (not whole 32-blocks), intermediate 64: only ffn_down's rows
    // ([48, 64]) are whole blocks, so only it is quantized; the tied embedding / LM head stays F32.
    const auto prompts = golden_prompts("tied");
    const loaded plain = eval_prompts(golden_root / "tied", prompts);
    const loaded asked = eval_prompts(golden_root / "tied", prompts, ORLEANSLLM_DTYPE_Q8_0);
    EXPECT_EQ(asked.info.weight_dtype, ORLEANSLLM_DTYPE_F32) << "attn_q stays F32";
    const int64_t down_f32 = 48 * 64 * 4, down_q8 = 48 * 2 * 34;
    EXPECT_EQ(asked.info.weight_bytes, plain.info.weight_bytes - 2 * (down_f32 - down_q8));
    EXPECT_NE(asked.logits, plain.logits);
    EXPECT_GT(min_row_cosine(plain, asked), 0.999);
}

// The CUDA backend uploads F32 / F16 / BF16 matrices only: a quantized model is refused by name,
// whether or not a device is present, before anything is uploaded.
TEST(QuantizedModelLoad, TheCudaBackendRefusesQuantizedWeights) {
    orleansllm_model_params params = orleansllm_model_default_params();
    params.n_threads = 2;
    params.weight_type = ORLEANSLLM_DTYPE_Q8_0;
    orleansllm_model* m = nullptr;
    ASSERT_EQ(orleansllm_model_load((golden_root / "llama").string().c_str(), params, &m), ORLEANSLLM_OK) << orleansllm_last_error();
    orleansllm_engine_params ep = orleansllm_engine_default_params();
    ep.kv_cache_bytes = 1 << 20;
    ep.backend = ORLEANSLLM_BACKEND_CUDA;
    orleansllm_engine* e = nullptr;
    EXPECT_EQ(orleansllm_engine_init(m, ep, &e), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_EQ(e, nullptr);
    EXPECT_NE(std::string(orleansllm_last_error()).find("quantized weights are not supported by the cuda backend"), std::string::npos)
        << orleansllm_last_error();
    orleansllm_model_free(m);
}

TEST(QuantizedModelLoad, UnknownWeightTypeIsAnInvalidArgument) {
    orleansllm_model_params params = orleansllm_model_default_params();
    params.weight_type = ORLEANSLLM_DTYPE_BF16;
    orleansllm_model* model = nullptr;
    EXPECT_EQ(orleansllm_model_load((golden_root / "llama").string().c_str(), params, &model), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(model, nullptr);
    EXPECT_NE(std::string(orleansllm_last_error()).find("weight_type"), std::string::npos) << orleansllm_last_error();
}

TEST(QuantizedModelLoad, QuantizedNormIsRefused) {
    gguf_writer w = gguf_from_hf(golden_root / "llama");
    gguf_tensor& t = w.tensor("blk.0.attn_norm.weight");  // 64 floats → 2 Q8_0 blocks
    t.type = kQ8_0;
    t.data = std::string(2 * 34, '\0');
    std::string pattern = (fs::temp_directory_path() / "olm-quant-norm-XXXXXX.gguf").string();
    const int fd = mkstemps(pattern.data(), 5);
    ASSERT_GE(fd, 0);
    write_bytes(pattern, w.build());
    orleansllm_model* model = nullptr;
    EXPECT_EQ(orleansllm_model_load(pattern.c_str(), orleansllm_model_default_params(), &model), ORLEANSLLM_ERR_UNSUPPORTED);
    EXPECT_NE(std::string(orleansllm_last_error()).find("blk.0.attn_norm.weight' is Q8_0"), std::string::npos)
        << orleansllm_last_error();
    orleansllm_model_free(model);
    std::remove(pattern.c_str());
}

}  // namespace
