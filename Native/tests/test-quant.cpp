// test-quant.cpp: the Q8_0 / Q4_0 quantizer (src/quant.cpp) and the AVX2 quantized matmul kernels
// (src/cpu/matmul-quant-avx2.cpp, and the matmul() dispatch on this CPU):
// - bytes equal to tests/fixtures/quant (numpy, from llama.cpp's reference rules; see its README);
// - a hand-worked block of each type;
// - quantize → dequantize within the error the format allows;
// - kernels against a double-precision reference over the dequantized weights and activations
//   (the integer products are exact, so the tolerance is float rounding only), and matmul()
//   against the float activations within the activation quantization error.
// The AVX-512 VNNI kernel is tested in test-avx512-kernels.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu-features.h"
#include "cpu/matmul.h"
#include "kernel-test-data.h"
#include "orleansllm.h"
#include "quant.h"
#include "quant-test-data.h"
#include "thread-pool.h"

namespace {

namespace fs = std::filesystem;
using olm::dtype;
using olm_test::quantized_matrix;
using olm_test::random_floats;

const fs::path fixture_root = fs::path(OLM_REPO_ROOT) / "tests" / "fixtures" / "quant";

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(Quantizer, BytesMatchTheNumpyFixture) {
    const std::string input = read_bytes(fixture_root / "input.f32");
    ASSERT_EQ(input.size() % (32 * 4), 0u) << "missing or truncated " << (fixture_root / "input.f32");
    const int64_t n = int64_t(input.size() / 4);
    std::vector<float> x(static_cast<size_t>(n));
    std::memcpy(x.data(), input.data(), input.size());
    for (const auto& [type, file] : {std::pair{dtype::q8_0, "q8_0.bin"}, std::pair{dtype::q4_0, "q4_0.bin"}}) {
        const std::string want = read_bytes(fixture_root / file);
        ASSERT_EQ(int64_t(want.size()), olm::dtype_row_bytes(type, n)) << file;
        std::string got(want.size(), '\0');
        olm::quantize_row(type, x.data(), got.data(), n);
        const int64_t bb = olm::dtype_block_bytes(type);
        for (int64_t b = 0; b < n / 32; ++b) {
            EXPECT_EQ(got.substr(size_t(b * bb), size_t(bb)), want.substr(size_t(b * bb), size_t(bb)))
                << olm::dtype_name(type) << " block " << b << " differs from " << file;
        }
    }
}

TEST(Dequantizer, ReadOnlyTypesMatchTheNumpyFixture) {
    for (const auto& [type, name] : {std::pair{dtype::q5_0, "q5_0"}, std::pair{dtype::q5_1, "q5_1"},
                                     std::pair{dtype::q4_k, "q4_k"}, std::pair{dtype::q6_k, "q6_k"}}) {
        const std::string blocks = read_bytes(fixture_root / (std::string(name) + ".blocks"));
        const std::string values = read_bytes(fixture_root / (std::string(name) + ".f32"));
        const int64_t n = int64_t(values.size() / 4);
        ASSERT_GT(n, 0) << name;
        ASSERT_EQ(int64_t(blocks.size()), olm::dtype_row_bytes(type, n)) << name;
        std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
        std::memcpy(want.data(), values.data(), values.size());
        olm::dequantize_row(type, blocks.data(), got.data(), n);
        for (int64_t i = 0; i < n; ++i) {
            // numpy rounds each product; the compiler may fuse one multiply-subtract (Q4_K).
            ASSERT_NEAR(got[size_t(i)], want[size_t(i)], 1e-6 * std::fabs(want[size_t(i)]) + 1e-7) << name << " element " << i;
        }
    }
}

TEST(QuantKernels, ReadOnlyTypesThroughMatmulMatchTheFloatReference) {
    olm::thread_pool pool(2);
    std::vector<uint8_t> bytes(4096 * 16);
    std::mt19937 rng(8);
    for (auto& b : bytes) b = uint8_t(rng());
    for (const dtype type : {dtype::q5_0, dtype::q5_1, dtype::q4_k, dtype::q6_k}) {
        const int64_t rows = 24, cols = 512;
        std::vector<uint8_t> w_bytes(static_cast<size_t>(olm::dtype_row_bytes(type, cols) * rows));
        for (size_t i = 0; i < w_bytes.size(); ++i) w_bytes[i] = bytes[i % bytes.size()];
        // Sane scales: every fp16 field a small number (the random bytes could be inf or NaN).
        const int64_t bb = olm::dtype_block_bytes(type), n_blocks = int64_t(w_bytes.size()) / bb;
        for (int64_t b = 0; b < n_blocks; ++b) {
            uint8_t* blk = w_bytes.data() + b * bb;
            const uint16_t small = olm::fp32_to_fp16(0.001f * float(1 + b % 7));
            if (type == dtype::q6_k) {
                std::memcpy(blk + 208, &small, 2);
            } else {
                std::memcpy(blk, &small, 2);
                if (type == dtype::q5_1 || type == dtype::q4_k) std::memcpy(blk + 2, &small, 2);
            }
        }
        std::vector<float> deq(static_cast<size_t>(rows * cols));
        olm::dequantize_row(type, w_bytes.data(), deq.data(), rows * cols);
        const olm::matrix w{type, w_bytes.data(), rows, cols};
        for (const int64_t n : {1, 6}) {
            const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 21);
            std::vector<float> y(static_cast<size_t>(n * rows));
            olm::matmul(pool, x.data(), n, {{&w, y.data()}});
            for (int64_t t = 0; t < n; ++t)
                for (int64_t r = 0; r < rows; ++r) {
                    double ref = 0, magnitude = 0;
                    for (int64_t k = 0; k < cols; ++k) {
                        const double p = double(x[size_t(t * cols + k)]) * deq[size_t(r * cols + k)];
                        ref += p;
                        magnitude += std::fabs(p);
                    }
                    // BF16 activations and weights on AVX-512 BF16 CPUs: ≤ 2^-8 of Σ|x w|.
                    ASSERT_NEAR(y[size_t(t * rows + r)], ref, magnitude / 256 + 1e-6)
                        << olm::dtype_name(type) << " n " << n << " t " << t << " r " << r;
                }
        }
    }
}

TEST(Quantizer, Q4_0HandWorkedBlock) {
    // x[i] = i − 16: the largest magnitude is x[0] = −16, so d = −16 / −8 = 2 and
    // q = trunc(x / 2 + 8.5): x[0] → 0, x[1] = −15 → 1 (1.0), x[2] = −14 → 1 (1.5), ...,
    // x[31] = 15 → 16, clamped to 15. Byte j = q[j] | q[j + 16] << 4.
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i) x[size_t(i)] = float(i - 16);
    olm::block_q4_0 b{};
    olm::quantize_row(dtype::q4_0, x.data(), &b, 32);
    EXPECT_EQ(b.d, 0x4000) << "fp16 2.0";
    for (int j = 0; j < 16; ++j) {
        const int lo = int(std::trunc(float(j - 16) / 2 + 8.5f)), hi = std::min(15, int(std::trunc(float(j) / 2 + 8.5f)));
        EXPECT_EQ(b.qs[j], lo | hi << 4) << "byte " << j;
    }
    EXPECT_EQ(b.qs[0], 0 | 8 << 4);
    EXPECT_EQ(b.qs[15], 8 | 15 << 4) << "x[15] = −1 → 8, x[31] = 15 → 16 → 15";
}

TEST(Quantizer, Q8_0HandWorkedBlock) {
    // amax = 127 → d = 1: q = round half away from zero: 2.5 → 3, −2.5 → −3, 0.49 → 0.
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.49f;
    x[4] = -126.5f;
    olm::block_q8_0 b{};
    olm::quantize_row(dtype::q8_0, x.data(), &b, 32);
    EXPECT_EQ(b.d, 0x3C00) << "fp16 1.0";
    EXPECT_EQ(b.qs[0], 127);
    EXPECT_EQ(b.qs[1], 3);
    EXPECT_EQ(b.qs[2], -3);
    EXPECT_EQ(b.qs[3], 0);
    EXPECT_EQ(b.qs[4], -127);
}

TEST(Quantizer, RoundTripErrorWithinTheFormatsStep) {
    for (const float scale : {1e-3f, 1.0f, 300.0f}) {
        const std::vector<float> x = random_floats(32 * 64, 5, scale);
        for (const dtype type : {dtype::q8_0, dtype::q4_0}) {
            std::vector<uint8_t> q(size_t(olm::dtype_row_bytes(type, int64_t(x.size()))));
            olm::quantize_row(type, x.data(), q.data(), int64_t(x.size()));
            std::vector<float> y(x.size());
            olm::dequantize_row(type, q.data(), y.data(), int64_t(x.size()));
            for (size_t b = 0; b < x.size() / 32; ++b) {
                float amax = 0;
                for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
                // Q8_0: step amax/127, error ≤ step/2 plus the fp16 rounding of d (half an fp16 ulp:
                // 2^-11 relative, or 2^-25 absolute for subnormal halves) times |q| ≤ 127. Q4_0: step
                // amax/8; the element opposite the maximum may clamp from q = 16 to 15: a whole step.
                const float step = type == dtype::q8_0 ? amax / 127 : amax / 8;
                const float d_error = std::max(step / 2048, std::ldexp(1.0f, -25));
                const float bound = type == dtype::q8_0 ? step / 2 + 127 * d_error : step + 8 * d_error;
                for (size_t i = 0; i < 32; ++i) {
                    ASSERT_LE(std::fabs(y[b * 32 + i] - x[b * 32 + i]), bound * 1.0001f)
                        << olm::dtype_name(type) << " scale " << scale << " element " << b * 32 + i;
                }
            }
        }
    }
}

TEST(Quantizer, Q5_0HandWorkedBlock) {
    // x[i] = i − 16: m = x[0] = −16, d = −16 / −16 = 1, q = trunc(x + 16.5) = i, x[31] = 15 → 31.
    // Low 4 bits in the nibbles as Q4_0, bit 4 of element i in bit i of qh (elements 16..31).
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i) x[size_t(i)] = float(i - 16);
    olm::block_q5_0 b{};
    olm::quantize_row(dtype::q5_0, x.data(), &b, 32);
    EXPECT_EQ(b.d, 0x3C00) << "fp16 1.0";
    for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | j << 4) << "byte " << j;
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    EXPECT_EQ(qh, 0xFFFF0000u);
}

TEST(Quantizer, Q4_KHandWorkedBlock) {
    // Every sub-block holds 0, 0.5, ..., 7.5 twice: its own grid (scale 0.5, min 0) is exact, so
    // no refit wins; all 8 scales are the largest (63 · d, d = fp16(0.5 / 63)), the mins 0, and
    // q = round(x / (63 d)) = i mod 16.
    std::vector<float> x(256);
    for (int i = 0; i < 256; ++i) x[size_t(i)] = 0.5f * float(i % 16);
    olm::block_q4_k b{};
    olm::quantize_row(dtype::q4_k, x.data(), &b, 256);
    EXPECT_EQ(b.d, olm::fp32_to_fp16(0.5f / 63));
    EXPECT_EQ(b.dmin, 0);
    for (int j = 0; j < 8; ++j) {
        int sc, m;
        olm::q4_k_scale_min(b.scales, j, &sc, &m);
        EXPECT_EQ(sc, 63) << "sub-block " << j;
        EXPECT_EQ(m, 0) << "sub-block " << j;
    }
    for (int l = 0; l < 128; ++l) EXPECT_EQ(b.qs[l], (l % 16) | (l % 16) << 4) << "byte " << l;
}

TEST(Quantizer, Q6_KHandWorkedBlock) {
    // Sub-block j is c_j · (−32, −31, ..., −17): its grid of 32 steps at the −32 element is exact,
    // so the sub-block scale is c_j and q − 32 = −32 + i. The largest |c| (sub-block 15, c = 16)
    // maps to −128: d = 1 / (−128 / 16) = −0.125 and scales[j] = −8 (j + 1), all exact.
    std::vector<float> x(256);
    for (int j = 0; j < 16; ++j)
        for (int i = 0; i < 16; ++i) x[size_t(16 * j + i)] = float(j + 1) * float(i - 32);
    olm::block_q6_k b{};
    olm::quantize_row(dtype::q6_k, x.data(), &b, 256);
    EXPECT_EQ(b.d, olm::fp32_to_fp16(-16.0f / 128));
    for (int j = 0; j < 16; ++j) EXPECT_EQ(b.scales[j], -8 * (j + 1)) << "sub-block " << j;
    std::vector<float> y(256);
    olm::dequantize_row(dtype::q6_k, &b, y.data(), 256);
    for (int i = 0; i < 256; ++i) EXPECT_EQ(y[size_t(i)], x[size_t(i)]) << "element " << i << ": d, scales and q are exact";
}

// RMS of dequantize(quantize(x)) − x over RMS of x for normal data: llama.cpp's types reach
// about 2^-(bits) · 4 (Q4_K ≈ 0.09, Q6_K ≈ 0.023, Q5_0 ≈ 0.06 measured with its quantizer on
// Gaussian rows); the bounds leave 25% margin, and Quant.Tests compares with llama.cpp itself.
TEST(Quantizer, KTypesRoundTripErrorIsTheFormats) {
    for (const float scale : {1e-3f, 1.0f, 300.0f}) {
        std::mt19937 rng(17);
        std::normal_distribution<float> normal(0.0f, scale);
        std::vector<float> x(256 * 64);
        for (auto& v : x) v = normal(rng);
        for (const auto& [type, bound] : {std::pair{dtype::q4_k, 0.12}, std::pair{dtype::q6_k, 0.03}, std::pair{dtype::q5_0, 0.075}}) {
            std::vector<uint8_t> q(size_t(olm::dtype_row_bytes(type, int64_t(x.size()))));
            olm::quantize_row(type, x.data(), q.data(), int64_t(x.size()));
            std::vector<float> y(x.size());
            olm::dequantize_row(type, q.data(), y.data(), int64_t(x.size()));
            double err = 0, ref = 0;
            for (size_t i = 0; i < x.size(); ++i) {
                err += double(y[i] - x[i]) * (y[i] - x[i]);
                ref += double(x[i]) * x[i];
            }
            EXPECT_LT(std::sqrt(err / ref), bound) << olm::dtype_name(type) << " scale " << scale;
        }
    }
}

TEST(Quantizer, Q4_KMMixtureFollowsLlamaCppsRule) {
    // llama3-1b: 16 layers, rows of 2048 (8192 for ffn_down), tied embeddings.
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("token_embd.weight", 2048, 16, 1), ORLEANSLLM_DTYPE_Q6_K) << "tied: the LM head's rule";
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("token_embd.weight", 2048, 16, 0), ORLEANSLLM_DTYPE_Q4_K);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("output.weight", 2048, 16, 0), ORLEANSLLM_DTYPE_Q6_K);
    // use_more_bits(i, 16): i < 2, i >= 14, or (i − 2) % 3 == 2 → layers 0, 1, 4, 7, 10, 13, 14, 15.
    for (int i = 0; i < 16; ++i) {
        const bool more = i < 2 || i >= 14 || (i - 2) % 3 == 2;
        const std::string blk = "blk." + std::to_string(i) + ".";
        EXPECT_EQ(orleansllm_q4_k_m_tensor_type((blk + "attn_v.weight").c_str(), 2048, 16, 1), more ? ORLEANSLLM_DTYPE_Q6_K : ORLEANSLLM_DTYPE_Q4_K) << i;
        EXPECT_EQ(orleansllm_q4_k_m_tensor_type((blk + "ffn_down.weight").c_str(), 8192, 16, 1), more ? ORLEANSLLM_DTYPE_Q6_K : ORLEANSLLM_DTYPE_Q4_K) << i;
        for (const char* other : {"attn_q.weight", "attn_k.weight", "attn_output.weight", "ffn_gate.weight", "ffn_up.weight"})
            EXPECT_EQ(orleansllm_q4_k_m_tensor_type((blk + other).c_str(), 2048, 16, 1), ORLEANSLLM_DTYPE_Q4_K) << blk << other;
    }
    // smollm2-135m: rows of 576 (not whole 256-blocks) fall back: Q4_K → Q5_0, Q6_K → Q8_0;
    // ffn_down's rows of 1536 are whole blocks. 30 layers: more bits for i < 3, i >= 26, (i − 3) % 3 == 2.
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("token_embd.weight", 576, 30, 1), ORLEANSLLM_DTYPE_Q8_0);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.0.attn_q.weight", 576, 30, 1), ORLEANSLLM_DTYPE_Q5_0);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.0.attn_v.weight", 576, 30, 1), ORLEANSLLM_DTYPE_Q8_0);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.4.attn_v.weight", 576, 30, 1), ORLEANSLLM_DTYPE_Q5_0);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.0.ffn_down.weight", 1536, 30, 1), ORLEANSLLM_DTYPE_Q6_K);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.4.ffn_down.weight", 1536, 30, 1), ORLEANSLLM_DTYPE_Q4_K);
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type("blk.0.ffn_up.weight", 48, 30, 1), 0) << "not even 32-blocks: kept as stored";
    EXPECT_EQ(orleansllm_q4_k_m_tensor_type(nullptr, 48, 30, 1), -1);
}

TEST(Quantizer, CApiQuantizesAndRejectsBadShapes) {
    const std::vector<float> x = random_floats(4 * 64, 9);
    const int64_t need = orleansllm_quantized_bytes(ORLEANSLLM_DTYPE_Q4_0, 4, 64);
    ASSERT_EQ(need, 4 * 2 * 18);
    std::vector<uint8_t> via_api(static_cast<size_t>(need)), direct(static_cast<size_t>(need));
    ASSERT_EQ(orleansllm_quantize(ORLEANSLLM_DTYPE_Q4_0, x.data(), 4, 64, via_api.data(), need), ORLEANSLLM_OK);
    olm::quantize_row(dtype::q4_0, x.data(), direct.data(), 4 * 64);
    EXPECT_EQ(via_api, direct);
    EXPECT_EQ(orleansllm_quantize(ORLEANSLLM_DTYPE_Q4_0, x.data(), 4, 48, via_api.data(), need), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(orleansllm_last_error()).find("multiple of 32"), std::string::npos) << orleansllm_last_error();
    EXPECT_EQ(orleansllm_quantize(ORLEANSLLM_DTYPE_Q8_0, x.data(), 4, 64, via_api.data(), need), ORLEANSLLM_ERR_INVALID_ARGUMENT)
        << "Q8_0 needs 4 · 2 · 34 bytes";
    EXPECT_EQ(orleansllm_quantize(ORLEANSLLM_DTYPE_BF16, x.data(), 4, 64, via_api.data(), need), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(orleansllm_quantized_bytes(ORLEANSLLM_DTYPE_Q8_0, 3, 40), -1);
    EXPECT_EQ(orleansllm_quantized_bytes(ORLEANSLLM_DTYPE_BF16, 3, 40), 3 * 40 * 2);
}

TEST(QuantKernels, Avx2RowsMatchTheDequantizedReference) {
    for (const dtype type : {dtype::q8_0, dtype::q4_0, dtype::q5_0})
        for (const int64_t cols : {32, 96, 256})  // one block, an odd count, many
            for (const int64_t n : {1, 3, 37}) {
                const int64_t rows = 13;
                const quantized_matrix w(type, rows, cols, 7);
                const std::vector<float> x = random_floats(size_t(n * cols), 11);
                olm_test::q8_buffer xq(x, n, cols, olm::q8_corr_k_avx2(type));
                std::vector<float> y(size_t(n * rows), NAN);
                olm::matmul_rows_q8_avx2(xq.view, w.m, 2, 11, y.data());
                olm_test::expect_quantized_rows_match(xq, w, 2, 11, y, olm::dtype_name(type) + std::string(" cols ") +
                                                                           std::to_string(cols) + " n " + std::to_string(n));
            }
}

TEST(QuantKernels, Avx2KDecodeRowsMatchTheDequantizedReference) {
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int64_t cols : {256, 2048})
            olm_test::expect_k_kernel_matches(olm::matmul_rows_k_avx2, type, cols, 31,
                                              olm::dtype_name(type) + std::string(" cols ") + std::to_string(cols));
}

TEST(QuantKernels, KTypesDecodeThroughMatmulMatchesTheFloatReference) {
    // One token (the integer K kernel of this CPU) and several (rows widened), mixed outputs.
    olm::thread_pool pool(2);
    for (const int64_t n : {1, 3}) {
        const quantized_matrix a(dtype::q4_k, 40, 512, 5), b(dtype::q6_k, 24, 512, 6);
        const std::vector<float> x = random_floats(size_t(n * 512), 13);
        std::vector<float> ya(size_t(n * 40)), yb(size_t(n * 24));
        olm::matmul(pool, x.data(), n, {{&a.m, ya.data()}, {&b.m, yb.data()}});
        // Widened rows: BF16 on AVX-512 BF16 CPUs, else float (exact: the 256-block bound covers it).
        const bool bf16 = n > 1 && olm::cpu_has_avx512_bf16();
        olm_test::expect_float_rows_match(x, n, a, ya, "q4_k n " + std::to_string(n), bf16, 256);
        olm_test::expect_float_rows_match(x, n, b, yb, "q6_k n " + std::to_string(n), bf16, 256);
    }
}

TEST(QuantKernels, MatmulDispatchMatchesTheFloatReference) {
    olm::thread_pool pool(2);
    for (const dtype type : {dtype::q8_0, dtype::q4_0, dtype::q5_0})
        for (const int64_t n : {1, 5, 40})
            for (const auto path : {olm::quant_batch_path::int8, olm::quant_batch_path::bf16}) {
                const int64_t rows = 70, cols = 160;
                const quantized_matrix w(type, rows, cols, 3), w2(type, 20, cols, 4);
                const std::vector<float> x = random_floats(size_t(n * cols), 12);
                std::vector<float> y(size_t(n * rows)), y2(size_t(n * 20));
                olm::matmul(pool, x.data(), n, {{&w.m, y.data()}, {&w2.m, y2.data()}}, path);
                // The bf16 path runs only on AVX-512 BF16 CPUs; elsewhere it is the int8 one.
                const bool bf16 = path == olm::quant_batch_path::bf16 && olm::cpu_has_avx512_bf16();
                const std::string what = std::string(olm::dtype_name(type)) + " n " + std::to_string(n) + (bf16 ? " bf16" : " int8");
                olm_test::expect_float_rows_match(x, n, w, y, what, bf16);
                olm_test::expect_float_rows_match(x, n, w2, y2, what + " second output", bf16);
            }
}

// Decode takes the packed layout's kernel on VNNI CPUs (matrices without a packed copy fall back to
// the int8 row kernels there too, test-gemm-q8), the int8 row kernels elsewhere.
TEST(QuantKernels, DefaultPathForDecodeIsGemmOnVnniElseInt8) {
    EXPECT_EQ(olm::default_quant_batch_path(1), olm::cpu_has_avx512_vnni() ? olm::quant_batch_path::gemm : olm::quant_batch_path::int8);
}

}  // namespace
