// Every CPU kernel against a plain double-precision reference written here, through the run-time
// dispatch (and the AVX2 kernels directly); test-avx512-kernels calls the AVX-512 ones directly.
#include <gtest/gtest.h>

#include <immintrin.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "batch.h"
#include "cpu/cpu-features.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "kernel-test-data.h"
#include "thread-pool.h"

namespace {

using olm::dtype;

using olm::from_bf16;
using olm::to_bf16;
using olm_test::make_matrix;
using olm_test::random_floats;
using olm_test::stored_matrix;

class MatmulTest : public ::testing::TestWithParam<std::tuple<dtype, int64_t, int64_t, int64_t>> {};

TEST_P(MatmulTest, MatchesReference) {
    const auto [type, rows, cols, n] = GetParam();
    olm::thread_pool pool(2);
    stored_matrix w = make_matrix(type, rows, cols, 7);
    std::vector<float> x = random_floats(size_t(n * cols), 11);
    std::vector<float> y(size_t(n * rows), NAN);
    olm::matmul(pool, x.data(), n, {{&w.m, y.data()}});

    // BF16 weights may be multiplied against BF16-rounded activations (AVX-512 BF16): the
    // tolerance allows the activation rounding (2^-9 relative per element).
    const bool bf16_activations = type == dtype::bf16 && std::string(olm::cpu_feature_level()) == "avx512bf16";
    for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
            double ref = 0, magnitude = 0;
            for (int64_t k = 0; k < cols; ++k) {
                ref += double(x[size_t(t * cols + k)]) * w.f32[size_t(r * cols + k)];
                magnitude += std::fabs(double(x[size_t(t * cols + k)]) * w.f32[size_t(r * cols + k)]);
            }
            const double tol = (bf16_activations ? 8e-3 : 1e-5) * magnitude + 1e-6;
            ASSERT_NEAR(y[size_t(t * rows + r)], ref, tol) << "t=" << t << " r=" << r;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatmulTest,
    ::testing::Combine(::testing::Values(dtype::f32, dtype::f16, dtype::bf16), ::testing::Values<int64_t>(1, 5, 67),
                       ::testing::Values<int64_t>(7, 64, 80, 100), ::testing::Values<int64_t>(1, 3, 4, 9, 37)));

TEST(MatmulTest, Avx2KernelMatchesReferenceOnEveryCpu) {
    stored_matrix w = make_matrix(dtype::bf16, 13, 45, 3);
    std::vector<float> x = random_floats(size_t(3 * 45), 5);
    std::vector<float> y(size_t(3 * 13));
    olm::matmul_rows_avx2(x.data(), 3, w.m, 0, 13, y.data());
    for (int64_t t = 0; t < 3; ++t)
        for (int64_t r = 0; r < 13; ++r) {
            double ref = 0;
            for (int64_t k = 0; k < 45; ++k) ref += double(x[size_t(t * 45 + k)]) * w.f32[size_t(r * 45 + k)];
            ASSERT_NEAR(y[size_t(t * 13 + r)], ref, 1e-4);
        }
}

// The AVX2 BF16 kernel on pair-ordered activations, decode (n = 1) and batched, on every CPU:
// 80 columns = two 32-column steps and a 16-column step; 85 adds a 5-column tail.
TEST(MatmulTest, Avx2Bf16PairKernelMatchesReferenceOnEveryCpu) {
    for (const int64_t cols : {80, 85}) {
        for (const int64_t n : {1, 5}) {
            stored_matrix w = make_matrix(dtype::bf16, 11, cols, 3);
            std::vector<float> x = random_floats(size_t(n * cols), 5);
            std::vector<float> pairs(size_t(n * olm::bf16_pair_columns(cols)));
            olm::to_bf16_pairs(x.data(), n, cols, pairs.data());
            std::vector<float> y(size_t(n * 11), NAN);
            olm::matmul_rows_bf16_pairs_avx2(pairs.data(), x.data(), n, w.m, 0, 11, y.data());
            for (int64_t t = 0; t < n; ++t)
                for (int64_t r = 0; r < 11; ++r) {
                    double ref = 0;
                    for (int64_t k = 0; k < cols; ++k) ref += double(x[size_t(t * cols + k)]) * w.f32[size_t(r * cols + k)];
                    ASSERT_NEAR(y[size_t(t * 11 + r)], ref, 1e-4) << "cols " << cols << " n " << n << " t " << t << " r " << r;
                }
        }
    }
}

TEST(Bf16Test, RoundsToNearestEvenAndKeepsNaN) {
    EXPECT_EQ(to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(to_bf16(from_bf16(0x3F80) + 0x1p-8f), 0x3F80);           // halfway, even stays
    EXPECT_EQ(to_bf16(from_bf16(0x3F81) + 0x1p-8f), 0x3F82);           // halfway, odd rounds up
    EXPECT_EQ(to_bf16(from_bf16(0x3F80) + 0x1.8p-8f), 0x3F81);         // above halfway
    EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::nanf("")))));
    EXPECT_TRUE(std::isnan(from_bf16(to_bf16(from_bf16(0x7FFF)))));     // NaN with all mantissa bits set
    EXPECT_EQ(to_bf16(-INFINITY), 0xFF80);
}

TEST(ElementwiseTest, RmsNormMatchesReference) {
    const int64_t n = 3, dim = 37;
    auto x = random_floats(size_t(n * dim), 1), w = random_floats(size_t(dim), 2);
    std::vector<float> out(x.size());
    olm::rms_norm(x.data(), w.data(), out.data(), n, dim, 1e-5f);
    for (int64_t t = 0; t < n; ++t) {
        double ss = 0;
        for (int64_t i = 0; i < dim; ++i) ss += double(x[size_t(t * dim + i)]) * x[size_t(t * dim + i)];
        const double inv = 1.0 / std::sqrt(ss / dim + 1e-5);
        for (int64_t i = 0; i < dim; ++i) EXPECT_NEAR(out[size_t(t * dim + i)], x[size_t(t * dim + i)] * inv * w[size_t(i)], 1e-5);
    }
}

TEST(ElementwiseTest, RopeRotatesHalvesByTheGivenAngles) {
    const int64_t n = 2, heads = 3, hd = 8, half = hd / 2;
    auto x = random_floats(size_t(n * heads * hd), 3);
    auto original = x;
    std::vector<float> cos(size_t(n * half)), sin(size_t(n * half));
    for (int64_t i = 0; i < n * half; ++i) {
        cos[size_t(i)] = std::cos(0.1f * float(i));
        sin[size_t(i)] = std::sin(0.1f * float(i));
    }
    olm::rope(x.data(), n, heads, hd, cos.data(), sin.data());
    for (int64_t t = 0; t < n; ++t)
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < half; ++i) {
                const size_t base = size_t((t * heads + h) * hd);
                const double a = original[base + size_t(i)], b = original[base + size_t(i + half)];
                const double c = cos[size_t(t * half + i)], s = sin[size_t(t * half + i)];
                EXPECT_NEAR(x[base + size_t(i)], a * c - b * s, 1e-6);
                EXPECT_NEAR(x[base + size_t(i + half)], b * c + a * s, 1e-6);
            }
}

// Large magnitudes of either sign: no overflow (exp(-g) for g = -100 would be inf), relative
// error within float precision.
TEST(ElementwiseTest, SiluMulHoldsForLargeInputsOfEitherSign) {
    std::vector<float> g, u;
    for (int i = -400; i <= 400; ++i) {
        g.push_back(float(i) * 0.25f);
        u.push_back(1.0f + float(i % 7) * 0.1f);
    }
    g.push_back(-1e30f), u.push_back(1.0f);
    g.push_back(1e30f), u.push_back(1.0f);
    std::vector<float> out(g.size());
    olm::silu_mul(g.data(), u.data(), out.data(), 1, int64_t(g.size()));
    for (size_t i = 0; i < g.size(); ++i) {
        const double ref = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
        ASSERT_TRUE(std::isfinite(out[i])) << g[i];
        ASSERT_NEAR(out[i], ref, 1e-6 * std::max(1.0, std::fabs(ref))) << g[i];
    }
}

TEST(ElementwiseTest, SiluMulMatchesReference) {
    auto g = random_floats(50, 4), u = random_floats(50, 5);
    std::vector<float> out(50);
    olm::silu_mul(g.data(), u.data(), out.data(), 5, 10);
    for (size_t i = 0; i < 50; ++i) EXPECT_NEAR(out[i], g[i] / (1.0 + std::exp(-double(g[i]))) * u[i], 1e-6);
}

// Paged attention over a shuffled block table equals causal attention over contiguous K/V.
class AttentionTest : public ::testing::TestWithParam<std::tuple<int32_t, int32_t, dtype>> {};

// head_dim 64 and 128 take the AVX-512 kernel where the CPU has it (F32 and int8 caches), else
// the grouped AVX2 one (also called directly); 16 and 24 the generic one. A BF16 or int8 cache
// holds the rounded or quantized keys and values, and the reference uses the same values, so the
// int8 kernels are held to float rounding (1e-5) over the dequantized cache.
TEST_P(AttentionTest, PagedMatchesContiguousReference) {
    const auto [hd, group, kv_type] = GetParam();
    const olm_test::paged_attention_case c(hd, group, kv_type);
    const int32_t n_heads = c.n_heads, n_kv = c.n_kv, block = c.block;
    olm::thread_pool pool(2);
    const olm::batch_view b = c.batch();
    const auto& q = c.q;
    // What paged_attention picks for this CPU, and the AVX2 kernel on its own (inline and pooled).
    std::vector<std::vector<float>> outs(1, std::vector<float>(q.size()));
    const void* kc = c.cache_k();
    const void* vc = c.cache_v();
    olm::paged_attention(pool, b, q.data(), kc, vc, outs[0].data(), n_heads, n_kv, hd, block, kv_type);
    if (kv_type == dtype::kv_int8 && olm::paged_attention_int8_avx2_supports(n_heads, n_kv, hd)) {
        outs.emplace_back(q.size());
        olm::paged_attention_int8_avx2(pool, b, q.data(), kc, vc, outs.back().data(), n_heads, n_kv, hd, block);
    } else if (olm::paged_attention_avx2_supports(n_heads, n_kv, hd)) {
        for (const int64_t inline_below : {int64_t(0), int64_t(1) << 40}) {
            outs.emplace_back(q.size());
            olm::paged_attention_avx2(pool, b, q.data(), kc, vc, outs.back().data(), n_heads, n_kv, hd, block, kv_type,
                                      inline_below);
        }
    }

    const std::vector<double> ref = c.reference();
    for (size_t o = 0; o < outs.size(); ++o)
        for (size_t i = 0; i < ref.size(); ++i) {
            const int32_t t = int32_t(i / size_t(n_heads * hd)), h = int32_t(i / size_t(hd) % size_t(n_heads));
            ASSERT_NEAR(outs[o][i], ref[i], 1e-5) << "kernel " << o << " seq " << c.seq_of(t) << " token " << t << " head " << h;
        }
}

// A decode batch (one query per sequence) through the AVX2 kernel with its keys split into ranges
// across the pool (10 keys: ranges [0, 8) and [8, 10)) and unsplit, against the reference.
TEST_P(AttentionTest, DecodeSplitByKeysMatchesReference) {
    const auto [hd, group, kv_type] = GetParam();
    const olm_test::paged_attention_case c(hd, group, kv_type);
    if (kv_type == dtype::kv_int8 || !olm::paged_attention_avx2_supports(c.n_heads, c.n_kv, hd)) GTEST_SKIP();
    const olm::batch_view b = c.decode_batch();
    const std::vector<float> q = c.decode_q();
    const std::vector<double> ref = c.reference();
    for (const int32_t threads : {1, 2, 8}) {
        olm::thread_pool pool(threads);
        for (const int32_t split_min_keys : {0, 1, 4, 128}) {
            std::vector<float> out(q.size());
            olm::paged_attention_avx2(pool, b, q.data(), c.cache_k(), c.cache_v(), out.data(), c.n_heads, c.n_kv, hd, c.block,
                                      kv_type, 16384, split_min_keys);
            for (size_t i = 0; i < out.size(); ++i) {
                const size_t row = size_t(olm_test::paged_attention_case::decode_rows[i / size_t(c.n_heads * hd)]);
                ASSERT_NEAR(out[i], ref[row * size_t(c.n_heads * hd) + i % size_t(c.n_heads * hd)], 1e-5)
                    << "threads " << threads << " split_min_keys " << split_min_keys << " element " << i;
            }
        }
    }
}

// A long decode context split into ranges (several per KV head, a ragged last one) equals the
// unsplit kernel on the same batch.
TEST(AttentionDecodeSplitTest, LongContextMatchesUnsplit) {
    constexpr int32_t hd = 64, n_kv = 3, n_heads = 9, block = 16, n_keys = 517, n_blocks = (n_keys + block - 1) / block;
    for (const dtype kv_type : {dtype::f32, dtype::bf16}) {
        const auto kf = random_floats(size_t(n_blocks * block * n_kv * hd), 60), vf = random_floats(kf.size(), 61);
        std::vector<uint16_t> k16(kf.size()), v16(kf.size());
        for (size_t i = 0; i < kf.size(); ++i) k16[i] = olm::to_bf16(kf[i]), v16[i] = olm::to_bf16(vf[i]);
        const void* kc = kv_type == dtype::bf16 ? static_cast<const void*>(k16.data()) : kf.data();
        const void* vc = kv_type == dtype::bf16 ? static_cast<const void*>(v16.data()) : vf.data();
        std::vector<int32_t> blocks(static_cast<size_t>(n_blocks));
        for (int32_t i = 0; i < n_blocks; ++i) blocks[size_t(i)] = (i * 7) % n_blocks;  // scattered
        const int32_t position = n_keys - 1, query_start[2] = {0, 1}, context_len = n_keys, indptr[2] = {0, n_blocks};
        const olm::batch_view b =
            olm::attention_batch(1, &position, 1, query_start, &context_len, indptr, blocks.data());
        const auto q = random_floats(size_t(n_heads * hd), 62);
        olm::thread_pool pool(4);
        std::vector<float> want(q.size()), got(q.size());
        olm::paged_attention_avx2(pool, b, q.data(), kc, vc, want.data(), n_heads, n_kv, hd, block, kv_type, 16384, 0);
        for (const int32_t split_min_keys : {1, 64, 128, 300}) {
            olm::paged_attention_avx2(pool, b, q.data(), kc, vc, got.data(), n_heads, n_kv, hd, block, kv_type, 16384,
                                      split_min_keys);
            for (size_t i = 0; i < q.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << "split_min_keys " << split_min_keys << " element " << i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(HeadDims, AttentionTest,
                         ::testing::Combine(::testing::Values(16, 24, 64, 128), ::testing::Values(1, 3, 8),
                                            ::testing::Values(dtype::f32, dtype::bf16, dtype::kv_int8)));

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
    olm::thread_pool pool(3);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::atomic<int>> hits(size_t(1 + round % 37));
        pool.parallel_for(int64_t(hits.size()), [&](int64_t i) { hits[size_t(i)].fetch_add(1); });
        for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
}

}  // namespace
