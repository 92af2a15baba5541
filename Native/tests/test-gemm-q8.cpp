// The int8 GEMM for Q8_0 / Q4_0 / Q4_K / Q6_K weights (cpu/gemm-q8.h): the kernel called directly on odd shapes
// against a double-precision reference over the dequantized weights and quantized activations,
// and through matmul(). Skipped, with the reason, on CPUs without AVX-512 VNNI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cpu/cpu-features.h"
#include "cpu/gemm-q8.h"
#include "cpu/matmul.h"
#include "quant-test-data.h"
#include "thread-pool.h"

namespace {

using olm::dtype;

#define REQUIRE_AVX512_VNNI()                                                                  \
    if (!olm::cpu_has_avx512_vnni())                                                           \
    GTEST_SKIP() << "this CPU lacks AVX512_VNNI (kernel level " << olm::cpu_feature_level() \
                 << "): the int8 GEMM cannot run here"

// A quantized matrix with its GEMM copy.
struct packed_matrix : olm_test::quantized_matrix {
    std::vector<uint8_t> storage;
    packed_matrix(dtype type, int64_t rows, int64_t cols, uint32_t seed) : quantized_matrix(type, rows, cols, seed) {
        storage.resize(size_t(olm::gemm_q8_packed_bytes(m) + 64));
        void* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
        olm::gemm_q8_pack_groups(m, 0, (m.rows + olm::kGemmGroupRows - 1) / olm::kGemmGroupRows, aligned);
        m.packed = aligned;
    }
};

std::string shape(dtype type, int64_t rows, int64_t cols, int64_t n) {
    return olm::dtype_name(type) + std::string(" rows ") + std::to_string(rows) + " cols " + std::to_string(cols) + " n " +
           std::to_string(n);
}

TEST(GemmQ8, MatchesTheDequantizedReferenceOnOddShapes) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q8_0, dtype::q4_0})
        // one block; a partial k-chunk; more than one k-chunk with a partial one (17 blocks)
        for (const int64_t cols : {32, 96, 544})
            for (const int64_t rows : {13, 16, 40, 67})  // less than a group, one, a partial pair, a partial group
                for (int64_t n = 1; n <= 37; ++n) {
                    if (cols == 544 && n % 6 != 1) continue;  // the token tails are covered by the smaller shapes
                    const packed_matrix w(type, rows, cols, uint32_t(rows + cols));
                    const std::vector<float> x = olm_test::random_floats(size_t(n * cols), uint32_t(n));
                    olm_test::q8_buffer xq(x, n, cols, olm::gemm_q8_corr_k(type));
                    std::vector<float> y(size_t(n * rows), NAN);
                    olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 0, rows, y.data());
                    olm_test::expect_quantized_rows_match(xq, w, 0, rows, y, shape(type, rows, cols, n));
                }
}

// The K types, whose rows are whole 256-element super-blocks: one; three (24 blocks: a full
// k-chunk and a partial one). Q4_K's per-row mins and Q6_K's two scales per 32 are in the reference.
TEST(GemmQ8, KTypesMatchTheDequantizedReference) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int64_t cols : {256, 768})
            for (const int64_t rows : {13, 16, 40, 67})
                for (int64_t n = 1; n <= 9; ++n) {
                    const packed_matrix w(type, rows, cols, uint32_t(rows * 7 + cols));
                    const std::vector<float> x = olm_test::random_floats(size_t(n * cols), uint32_t(n + 100));
                    olm_test::q8_buffer xq(x, n, cols, olm::gemm_q8_corr_k(type));
                    std::vector<float> y(size_t(n * rows), NAN);
                    olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 0, rows, y.data());
                    olm_test::expect_quantized_rows_match(xq, w, 0, rows, y, shape(type, rows, cols, n));
                }
}

TEST(GemmQ8, WritesOnlyItsRows) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q8_0, dtype::q4_0}) {
        const packed_matrix w(type, 67, 96, 5);
        const int64_t n = 7;
        const std::vector<float> x = olm_test::random_floats(size_t(n * 96), 9);
        olm_test::q8_buffer xq(x, n, 96, olm::gemm_q8_corr_k(type));
        std::vector<float> y(size_t(n * 67), NAN);
        olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 16, 48, y.data());
        olm_test::expect_quantized_rows_match(xq, w, 16, 48, y, shape(type, 67, 96, n) + " rows [16, 48)");
        olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 48, 67, y.data());  // the last, partial group
        olm_test::expect_quantized_rows_match(xq, w, 16, 67, y, shape(type, 67, 96, n) + " rows [16, 67)");
    }
}

// One token (decode) has a kernel of its own: row groups streamed whole, 4 (then 2) side by side
// from quarters (halves) of the range, the groups left over one at a time with blocks in pairs
// (odd block counts leave one alone), the last group partial.
TEST(GemmQ8, DecodeMatchesTheDequantizedReferenceOnOddShapes) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q8_0, dtype::q4_0})
        for (const int64_t cols : {32, 64, 96, 160, 224, 2080})  // 1, 2, 3, 5, 7, 65 blocks
            // 1..13 groups: one stream, 2 streams, 4 streams with 0–3 groups left (2 + 1 of them)
            for (const int64_t rows : {1, 15, 16, 17, 33, 49, 64, 67, 100, 200}) {
                const packed_matrix w(type, rows, cols, uint32_t(3 * rows + cols));
                const std::vector<float> x = olm_test::random_floats(size_t(cols), uint32_t(cols + 7));
                olm_test::q8_buffer xq(x, 1, cols, olm::gemm_q8_corr_k(type));
                std::vector<float> y(size_t(rows), NAN);
                olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 0, rows, y.data());
                olm_test::expect_quantized_rows_match(xq, w, 0, rows, y, shape(type, rows, cols, 1));
                if (rows <= 16) continue;
                std::vector<float> part(size_t(rows), NAN);  // a range from a group boundary to the end
                olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, 16, rows, part.data());
                olm_test::expect_quantized_rows_match(xq, w, 16, rows, part, shape(type, rows, cols, 1) + " rows [16, end)");
            }
}

// The GEMM serves packed weights at every n (one token: its decode kernel; the K types keep their
// decode kernels, whose bound is their 256-block activations); matrices without a packed copy (here: the same weights, packed pointer cleared) take the BF16 path for batches and
// the row kernels for one token. Packed and unpacked outputs in one call match the reference.
TEST(GemmQ8, MatmulUsesItForPackedWeightsAtEveryTokenCount) {
    REQUIRE_AVX512_VNNI();
    olm::thread_pool pool(2);
    for (const dtype type : {dtype::q8_0, dtype::q4_0, dtype::q4_k, dtype::q6_k})
        for (const int64_t n : {1, 2, 5, 33}) {
            const packed_matrix w(type, 200, 256, 3), w2(type, 40, 256, 4);
            const std::vector<float> x = olm_test::random_floats(size_t(n * 256), 8);
            std::vector<float> y(size_t(n * 200), NAN), y2(size_t(n * 40), NAN);
            ASSERT_EQ(olm::default_quant_batch_path(n), olm::quant_batch_path::gemm);
            olm::matmul(pool, x.data(), n, {{&w.m, y.data()}, {&w2.m, y2.data()}});
            // the K types' decode kernels quantize the token per 256-block
            const int64_t block = n == 1 && (type == dtype::q4_k || type == dtype::q6_k) ? 256 : 32;
            olm_test::expect_float_rows_match(x, n, w, y, shape(type, 200, 256, n), false, block);
            olm_test::expect_float_rows_match(x, n, w2, y2, shape(type, 40, 256, n), false, block);
            // One output packed, one not: the GEMM for the first, the fallback for the second.
            olm::matrix plain = w2.m;
            plain.packed = nullptr;
            std::fill(y.begin(), y.end(), NAN);
            std::fill(y2.begin(), y2.end(), NAN);
            olm::matmul(pool, x.data(), n, {{&w.m, y.data()}, {&plain, y2.data()}});
            const bool bf16 = n > 1 && olm::cpu_has_avx512_bf16();
            olm_test::expect_float_rows_match(x, n, w, y, shape(type, 200, 256, n) + " beside an unpacked matrix", false, block);
            olm_test::expect_float_rows_match(x, n, w2, y2, shape(type, 40, 256, n) + " unpacked", bf16, block);
        }
}

// One token over Q8_0's layout and Q4_0's (fp16 scales in chunks of 8 blocks): column counts with
// a partial last chunk (3, 17 blocks) and whole ones (8, 24), rows short of a group and past one,
// every row range a task can get (from a group boundary); then through matmul() with the original
// blocks released, as load_model leaves them.
TEST(GemmQ8, DecodeMatchesTheReferenceFromEveryGroup) {
    REQUIRE_AVX512_VNNI();
    olm::thread_pool pool(2);
    for (const dtype type : {dtype::q8_0, dtype::q4_0})
        for (const int64_t cols : {96, 256, 544, 768})
            for (const int64_t rows : {13, 16, 67, 200}) {
                const packed_matrix w(type, rows, cols, uint32_t(rows * 7 + cols));
                const std::vector<float> x = olm_test::random_floats(size_t(cols), uint32_t(rows + cols));
                olm_test::q8_buffer xq(x, 1, cols, olm::gemm_q8_corr_k(type));
                for (int64_t r0 = 0; r0 < rows; r0 += 16) {
                    std::vector<float> y(size_t(rows), NAN);
                    olm::gemm_q8_rows_avx512_vnni(xq.view, w.m, r0, rows, y.data());
                    olm_test::expect_quantized_rows_match(xq, w, r0, rows, y, shape(type, rows, cols, 1) + " from row " + std::to_string(r0));
                }
                std::vector<float> y(size_t(rows), NAN);
                olm::matrix released = w.m;
                released.data = nullptr;
                olm::matmul(pool, x.data(), 1, {{&released, y.data()}});
                olm_test::expect_float_rows_match(x, 1, w, y, shape(type, rows, cols, 1) + " through matmul", false, 32);
            }
}

}  // namespace
