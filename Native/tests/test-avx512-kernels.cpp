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
    for (const int64_t cols : {8, 64, 100})  // below one 32-column step, whole steps, a tail
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
// over scattered blocks, against a contiguous double-precision reference.
TEST(Avx512Kernels, PagedAttentionMatchesTheContiguousReference) {
    REQUIRE_AVX512();
    olm::thread_pool pool(2);
    for (const int32_t hd : {64, 128})
        for (const int32_t group : {1, 3, 8}) {
            ASSERT_TRUE(olm::paged_attention_avx512_supports(2 * group, 2, hd));
            const int32_t n_kv = 2, n_heads = n_kv * group, block = 4, n_blocks = 12;
            const int32_t seq_len[2] = {7, 10};
            const int32_t new_tokens[2] = {7, 3};
            const int64_t kv_dim = int64_t(n_kv) * hd;
            std::vector<float> k_cache(size_t(n_blocks * block * kv_dim)), v_cache(k_cache.size());
            const std::vector<int32_t> tables[2] = {{5, 2}, {9, 0, 11}};
            std::vector<std::vector<float>> keys(2), values(2);
            for (int s = 0; s < 2; ++s) {
                keys[size_t(s)] = random_floats(size_t(seq_len[s] * kv_dim), 20 + s);
                values[size_t(s)] = random_floats(size_t(seq_len[s] * kv_dim), 30 + s);
                for (int32_t j = 0; j < seq_len[s]; ++j) {
                    const int64_t slot = int64_t(tables[s][size_t(j / block)]) * block + j % block;
                    std::memcpy(&k_cache[size_t(slot * kv_dim)], &keys[size_t(s)][size_t(j * kv_dim)], size_t(kv_dim) * 4);
                    std::memcpy(&v_cache[size_t(slot * kv_dim)], &values[size_t(s)][size_t(j * kv_dim)], size_t(kv_dim) * 4);
                }
            }
            const int32_t n_tokens = new_tokens[0] + new_tokens[1];
            std::vector<int32_t> positions;
            for (int s = 0; s < 2; ++s)
                for (int32_t i = 0; i < new_tokens[s]; ++i) positions.push_back(seq_len[s] - new_tokens[s] + i);
            const int32_t query_start[3] = {0, new_tokens[0], n_tokens};
            const int32_t block_indptr[3] = {0, 2, 5};
            const int32_t block_indices[5] = {5, 2, 9, 0, 11};
            olm::batch_view b;
            b.n_tokens = n_tokens;
            b.positions = positions.data();
            b.n_seqs = 2;
            b.query_start = query_start;
            b.context_lens = seq_len;
            b.block_indptr = block_indptr;
            b.block_indices = block_indices;
            const std::vector<float> q = random_floats(size_t(n_tokens * n_heads * hd), 40);
            std::vector<float> out(q.size(), NAN);
            olm::paged_attention_avx512(pool, b, q.data(), k_cache.data(), v_cache.data(), out.data(), n_heads, n_kv, hd, block);
            for (int s = 0; s < 2; ++s)
                for (int32_t t = query_start[s]; t < query_start[s + 1]; ++t)
                    for (int32_t h = 0; h < n_heads; ++h) {
                        const int32_t kvh = h / group, n_keys = positions[size_t(t)] + 1;
                        std::vector<double> p(static_cast<size_t>(n_keys));
                        double mx = -1e300, sum = 0;
                        for (int32_t j = 0; j < n_keys; ++j) {
                            double d = 0;
                            for (int32_t i = 0; i < hd; ++i)
                                d += double(q[size_t((t * n_heads + h) * hd + i)]) * keys[size_t(s)][size_t(j * kv_dim + kvh * hd + i)];
                            p[size_t(j)] = d / std::sqrt(double(hd));
                            mx = std::max(mx, p[size_t(j)]);
                        }
                        for (auto& v : p) sum += (v = std::exp(v - mx));
                        for (int32_t i = 0; i < hd; ++i) {
                            double ref = 0;
                            for (int32_t j = 0; j < n_keys; ++j)
                                ref += p[size_t(j)] / sum * values[size_t(s)][size_t(j * kv_dim + kvh * hd + i)];
                            ASSERT_NEAR(out[size_t((t * n_heads + h) * hd + i)], ref, 1e-5)
                                << "head_dim " << hd << " group " << group << " seq " << s << " token " << t << " head " << h;
                        }
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
