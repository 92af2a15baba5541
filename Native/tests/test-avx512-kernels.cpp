// The AVX-512 and AVX-512 BF16 kernels called directly against double-precision references, so
// that each is checked on a CPU that has it whatever the run-time dispatch would pick (the
// dispatch never sends BF16 weights to matmul_rows_avx512 on an AVX-512 BF16 CPU, for one).
// On a CPU without the instructions each test is skipped with the reason, and the binary prints
// one summary line: how many ran and how many were skipped (ctest test avx512-kernel-summary).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "batch.h"
#include "cpu/cpu-features.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "kernel-test-data.h"
#include "quant-test-data.h"
#include "thread-pool.h"

namespace {

using olm::dtype;
using olm_test::make_matrix;
using olm_test::random_floats;
using olm_test::stored_matrix;

#define REQUIRE_AVX512()                                                                              \
    if (!olm::cpu_has_avx512())                                                                       \
    GTEST_SKIP() << "this CPU lacks AVX-512 F/BW/VL/DQ (kernel level " << olm::cpu_feature_level() \
                 << "): the AVX-512 kernels cannot run here"
#define REQUIRE_AVX512_BF16()                                                                      \
    if (!olm::cpu_has_avx512_bf16())                                                               \
    GTEST_SKIP() << "this CPU lacks AVX512_BF16 (kernel level " << olm::cpu_feature_level()     \
                 << "): the BF16 dot-product kernels cannot run here"

#define REQUIRE_AVX512_VNNI()                                                                      \
    if (!olm::cpu_has_avx512_vnni())                                                               \
    GTEST_SKIP() << "this CPU lacks AVX512_VNNI (kernel level " << olm::cpu_feature_level()     \
                 << "): the quantized-weight vpdpbusd kernels cannot run here"

// y[t, r] for rows [r0, r1) against sum_k x[t, k] * w[r, k] in double; the tolerance is relative
// to sum_k |x w| (the size of the rounding errors of any summation order).
void expect_rows_match(const std::vector<float>& x, const stored_matrix& w, int64_t n, int64_t r0, int64_t r1,
                       const std::vector<float>& y, double relative, const std::string& what) {
    const int64_t cols = w.m.cols, rows = w.m.rows;
    for (int64_t t = 0; t < n; ++t)
        for (int64_t r = r0; r < r1; ++r) {
            double ref = 0, magnitude = 0;
            for (int64_t k = 0; k < cols; ++k) {
                const double p = double(x[size_t(t * cols + k)]) * w.f32[size_t(r * cols + k)];
                ref += p;
                magnitude += std::fabs(p);
            }
            ASSERT_NEAR(y[size_t(t * rows + r)], ref, relative * magnitude + 1e-6) << what << " t=" << t << " r=" << r;
        }
}

TEST(Avx512Kernels, MatmulRowsOfEveryDtypeMatchTheReference) {
    REQUIRE_AVX512();
    for (const dtype type : {dtype::f32, dtype::f16, dtype::bf16})
        for (const int64_t cols : {7, 64, 100})  // a masked tail only, whole vectors, both
            for (const int64_t n : {1, 5, 37}) {   // decode, a few tokens, more than one token chunk
                const int64_t rows = 13;
                stored_matrix w = make_matrix(type, rows, cols, 7);
                std::vector<float> x = random_floats(size_t(n * cols), 11);
                std::vector<float> y(size_t(n * rows), NAN);
                // Rows [2, 11): a range that starts and ends inside the kernel's row blocks.
                olm::matmul_rows_avx512(x.data(), n, w.m, 2, 11, y.data());
                expect_rows_match(x, w, n, 2, 11, y, 1e-5,
                                  std::string(olm::dtype_name(type)) + " cols " + std::to_string(cols) + " n " + std::to_string(n));
                for (int64_t t = 0; t < n; ++t) {
                    ASSERT_TRUE(std::isnan(y[size_t(t * rows + 1)])) << "row 1 is outside [2, 11) and stays untouched";
                    ASSERT_TRUE(std::isnan(y[size_t(t * rows + 11)])) << "row 11 is outside [2, 11) and stays untouched";
                }
            }
}

TEST(Avx512Kernels, QuantizedRowsMatchTheDequantizedReference) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q8_0, dtype::q4_0, dtype::q5_0})
        for (const int64_t cols : {32, 96, 256})  // a lone tail block, pairs and a tail, pairs only
            for (const int64_t n : {1, 3, 37}) {
                const olm_test::quantized_matrix w(type, 13, cols, 7);
                const std::vector<float> x = random_floats(size_t(n * cols), 11);
                olm_test::q8_buffer xq(x, n, cols, olm::q8_corr_k_avx512_vnni(type));
                std::vector<float> y(size_t(n * 13), NAN);
                olm::matmul_rows_q8_avx512_vnni(xq.view, w.m, 2, 11, y.data());
                olm_test::expect_quantized_rows_match(xq, w, 2, 11, y, olm::dtype_name(type) + std::string(" cols ") +
                                                                           std::to_string(cols) + " n " + std::to_string(n));
            }
}

TEST(Avx512Kernels, KDecodeRowsMatchTheDequantizedReference) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int64_t cols : {256, 2048})
            olm_test::expect_k_kernel_matches(olm::matmul_rows_k_avx512_vnni, type, cols, 41,
                                              olm::dtype_name(type) + std::string(" cols ") + std::to_string(cols));
}

TEST(Avx512Kernels, QuantizedRowsWidenToBf16LikeTheScalarDequantizer) {
    REQUIRE_AVX512_BF16();
    for (const dtype type : {dtype::q8_0, dtype::q4_0, dtype::q5_0}) {
        const olm_test::quantized_matrix w(type, 9, 96, 5);
        std::vector<uint16_t> got(size_t(5 * 96));
        olm::dequantize_rows_bf16_avx512(w.m, 3, 8, got.data());  // rows [3, 8)
        for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_EQ(got[i], olm::to_bf16(w.deq[3 * 96 + i])) << olm::dtype_name(type) << " element " << i;
        }
    }
}

TEST(Avx512Kernels, KTypeRowsWidenToBf16LikeTheScalarDequantizer) {
    REQUIRE_AVX512_BF16();
    for (const dtype type : {dtype::q4_k, dtype::q6_k}) {
        const olm_test::quantized_matrix w(type, 6, 512, 9);
        std::vector<uint16_t> got(size_t(3 * 512));
        olm::dequantize_rows_bf16_avx512(w.m, 2, 5, got.data());  // rows [2, 5)
        for (size_t i = 0; i < got.size(); ++i) {
            // The scalar dequantizer's multiply-subtract may be fused (Q4_K): one BF16 step apart at most.
            const int diff = std::abs(int(got[i]) - int(olm::to_bf16(w.deq[2 * 512 + i])));
            ASSERT_LE(diff, type == dtype::q4_k ? 1 : 0) << olm::dtype_name(type) << " element " << i;
        }
    }
}

TEST(Avx512Kernels, ToBf16RoundsToNearestEvenLikeTheScalarConversion) {
    REQUIRE_AVX512_BF16();
    std::vector<float> x = random_floats(37, 3, 100.0f);  // 37: two vectors and a masked tail
    const uint32_t specials[] = {0x3F808000u /* a tie, rounds to even (down) */, 0x3F818000u /* a tie, rounds up */,
                                 0x7F800000u /* +inf */, 0x00000001u /* smallest denormal */, 0x80000000u /* -0 */};
    for (size_t i = 0; i < std::size(specials); ++i) std::memcpy(&x[i], &specials[i], 4);
    std::vector<uint16_t> out(x.size());
    olm::to_bf16_avx512(x.data(), int64_t(x.size()), out.data());
    for (size_t i = 0; i < x.size(); ++i) {
        // Denormals: the instruction flushes them to zero; the scalar rounds them. Both are ±0 in BF16 here.
        if (std::fpclassify(x[i]) == FP_SUBNORMAL) {
            EXPECT_EQ(out[i] & 0x7FFF, olm::to_bf16(x[i]) & 0x7FFF) << i;
            continue;
        }
        EXPECT_EQ(out[i], olm::to_bf16(x[i])) << "element " << i << " = " << x[i];
    }
}

TEST(Avx512Kernels, Bf16DotProductMatmulMatchesTheReferenceOnRoundedActivations) {
    REQUIRE_AVX512_BF16();
    for (const int64_t cols : {8, 64, 100, 576})  // below one 32-column step, whole steps, a tail, smollm2
        for (const int64_t n : {1, 5, 37}) {
            const int64_t rows = 13;
            stored_matrix w = make_matrix(dtype::bf16, rows, cols, 9);
            std::vector<float> x = random_floats(size_t(n * cols), 13);
            std::vector<uint16_t> x_bf16(x.size());
            for (size_t i = 0; i < x.size(); ++i) {
                x_bf16[i] = olm::to_bf16(x[i]);
                x[i] = olm::from_bf16(x_bf16[i]);  // the reference multiplies what the kernel multiplies
            }
            std::vector<float> y(size_t(n * rows), NAN);
            olm::matmul_rows_bf16dot_avx512(x_bf16.data(), n, w.m, 0, rows, y.data());
            // BF16 × BF16 products are exact in float32; only the float32 sums round.
            expect_rows_match(x, w, n, 0, rows, y, 1e-5, "cols " + std::to_string(cols) + " n " + std::to_string(n));
        }
}

// Causal attention of two sequences (a 7-token prefill and a 3-token chunk over 7 cached tokens)
// over scattered blocks, F32, BF16 and kv_int8 caches, against a contiguous double-precision
// reference over the values the cache holds.
TEST(Avx512Kernels, PagedAttentionMatchesTheContiguousReference) {
    REQUIRE_AVX512();
    olm::thread_pool pool(2);
    for (const dtype kv_type : {dtype::f32, dtype::bf16, dtype::kv_int8})
        for (const int32_t hd : {64, 128})
            for (const int32_t group : {1, 3, 8}) {
                ASSERT_TRUE(olm::paged_attention_avx512_supports(2 * group, 2, hd));
                const olm_test::paged_attention_case c(hd, group, kv_type);
                const olm::batch_view b = c.batch();
                std::vector<float> out(c.q.size(), NAN);
                olm::paged_attention_avx512(pool, b, c.q.data(), c.cache_k(), c.cache_v(), out.data(), c.n_heads, c.n_kv, hd,
                                            c.block, kv_type);
                const std::vector<double> ref = c.reference();
                for (size_t i = 0; i < ref.size(); ++i) {
                    const int32_t t = int32_t(i / size_t(c.n_heads * hd)), h = int32_t(i / size_t(hd) % size_t(c.n_heads));
                    ASSERT_NEAR(out[i], ref[i], 1e-5) << "kv " << int(kv_type) << " head_dim " << hd << " group " << group
                                                      << " seq " << c.seq_of(t) << " token " << t << " head " << h;
                }
            }
}

// Longer prompts than the case above: a 150-token prefill and a 37-token chunk over 100 cached
// tokens (several 64-key tiles, ragged eights, chunks of 8 and of 10 queries), equal to the AVX2
// kernels (held to the double-precision reference by test-cpu-kernels) on the same batch.
TEST(Avx512Kernels, PagedAttentionOverLongPromptsMatchesTheAvx2Kernels) {
    REQUIRE_AVX512();
    olm::thread_pool pool(2);
    constexpr int32_t n_kv = 2, block = 16, seq_len[2] = {150, 137}, new_tokens[2] = {150, 37};
    constexpr int32_t n_blocks = (150 + block - 1) / block + (137 + block - 1) / block;
    for (const dtype kv_type : {dtype::bf16, dtype::kv_int8})
        for (const int32_t hd : {64, 128})
            for (const int32_t group : {3, 4}) {
                const int32_t n_heads = n_kv * group;
                const int64_t row_bytes = olm::kv_row_bytes(kv_type, hd);
                std::vector<uint8_t> kc(size_t(n_blocks * block * n_kv * row_bytes)), vc(kc.size());
                const std::vector<float> kf = random_floats(size_t(n_blocks * block * n_kv * hd), 71);
                const std::vector<float> vf = random_floats(kf.size(), 72);
                for (size_t r = 0; r < kf.size() / size_t(hd); ++r) {
                    if (kv_type == dtype::bf16) {
                        for (int32_t i = 0; i < hd; ++i) {
                            const uint16_t kb = olm::to_bf16(kf[r * size_t(hd) + size_t(i)]), vb = olm::to_bf16(vf[r * size_t(hd) + size_t(i)]);
                            std::memcpy(&kc[r * size_t(row_bytes) + size_t(i) * 2], &kb, 2);
                            std::memcpy(&vc[r * size_t(row_bytes) + size_t(i) * 2], &vb, 2);
                        }
                    } else {
                        olm::quantize_kv_int8_row(&kf[r * size_t(hd)], hd, &kc[r * size_t(row_bytes)]);
                        olm::quantize_kv_int8_row(&vf[r * size_t(hd)], hd, &vc[r * size_t(row_bytes)]);
                    }
                }
                std::vector<int32_t> indices(n_blocks);
                for (int32_t i = 0; i < n_blocks; ++i) indices[size_t(i)] = (i * 5) % n_blocks;  // scattered
                std::vector<int32_t> positions;
                for (int s = 0; s < 2; ++s)
                    for (int32_t i = 0; i < new_tokens[s]; ++i) positions.push_back(seq_len[s] - new_tokens[s] + i);
                const int32_t query_start[3] = {0, new_tokens[0], new_tokens[0] + new_tokens[1]};
                const int32_t indptr[3] = {0, (150 + block - 1) / block, n_blocks};
                const olm::batch_view b =
                    olm::attention_batch(query_start[2], positions.data(), 2, query_start, seq_len, indptr, indices.data());
                const std::vector<float> q = random_floats(size_t(b.n_tokens * n_heads * hd), 73);
                std::vector<float> got(q.size(), NAN), want(q.size(), NAN);
                olm::paged_attention_avx512(pool, b, q.data(), kc.data(), vc.data(), got.data(), n_heads, n_kv, hd, block, kv_type);
                if (kv_type == dtype::kv_int8) {
                    olm::paged_attention_int8_avx2(pool, b, q.data(), kc.data(), vc.data(), want.data(), n_heads, n_kv, hd, block);
                } else {
                    olm::paged_attention_avx2(pool, b, q.data(), kc.data(), vc.data(), want.data(), n_heads, n_kv, hd, block, kv_type);
                }
                for (size_t i = 0; i < q.size(); ++i)
                    ASSERT_NEAR(got[i], want[i], 1e-5) << "kv " << int(kv_type) << " head_dim " << hd << " group " << group
                                                       << " element " << i;
            }
}

// The same over a kv_int8 cache: the kernel widens the int8 values in registers; the reference is
// the double-precision attention over the dequantized rows, so only float rounding separates them.
TEST(Avx512Kernels, Int8PagedAttentionMatchesTheDequantizedReference) {
    REQUIRE_AVX512();
    olm::thread_pool pool(2);
    for (const int32_t hd : {64, 128})
        for (const int32_t group : {1, 3, 8}) {
            ASSERT_TRUE(olm::paged_attention_int8_avx512_supports(2 * group, 2, hd));
            const olm_test::paged_attention_case c(hd, group, dtype::kv_int8);
            const olm::batch_view b = c.batch();
            std::vector<float> out(c.q.size(), NAN);
            olm::paged_attention_int8_avx512(pool, b, c.q.data(), c.cache_k(), c.cache_v(), out.data(), c.n_heads, c.n_kv, hd,
                                             c.block);
            const std::vector<double> ref = c.reference();
            for (size_t i = 0; i < ref.size(); ++i) {
                const int32_t t = int32_t(i / size_t(c.n_heads * hd)), h = int32_t(i / size_t(hd) % size_t(c.n_heads));
                ASSERT_NEAR(out[i], ref[i], 1e-5)
                    << "head_dim " << hd << " group " << group << " seq " << c.seq_of(t) << " token " << t << " head " << h;
            }
        }
}

// Prints "AVX-512 kernel tests: N ran, M skipped (...)" after the tests, so a CI log shows
// whether this CPU exercised the AVX-512 kernels at all.
class summary : public ::testing::Environment {
public:
    void TearDown() override {
        const ::testing::UnitTest& u = *::testing::UnitTest::GetInstance();
        const int skipped = u.skipped_test_count();
        const int ran = u.test_to_run_count() - skipped;
        std::printf("AVX-512 kernel tests: %d ran, %d skipped (CPU kernel level %s%s)\n", ran, skipped,
                    olm::cpu_feature_level(), skipped > 0 ? ": the CPU lacks the instructions the skipped ones need" : "");
        std::fflush(stdout);
    }
};

const ::testing::Environment* const summary_environment = ::testing::AddGlobalTestEnvironment(new summary);

}  // namespace
