// The K types' decode layout and kernel (cpu/k-decode.h): the kernel called directly on odd shapes
// and on the extremes of its integer sums, against a double-precision reference over the
// dequantized weights and the 256-block quantized token; and through matmul() with the original
// blocks released, as the loader leaves them. Skipped, with the reason, on CPUs without AVX-512 VNNI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/cpu-features.h"
#include "cpu/gemm-q8.h"
#include "cpu/k-decode.h"
#include "cpu/matmul.h"
#include "quant-test-data.h"
#include "thread-pool.h"

namespace {

using olm::dtype;

#define REQUIRE_AVX512_VNNI()                                                                  \
    if (!olm::cpu_has_avx512_vnni())                                                           \
    GTEST_SKIP() << "this CPU lacks AVX512_VNNI (kernel level " << olm::cpu_feature_level() \
                 << "): the K decode layout is not used here"

// 64-byte aligned storage for a packed copy.
struct aligned_bytes {
    std::vector<uint8_t> storage;
    void* data = nullptr;
    explicit aligned_bytes(int64_t n) : storage(size_t(n + 64)) {
        data = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
    }
};

// A quantized matrix with its decode copy (and, for matmul, its GEMM copy).
struct k_packed_matrix : olm_test::quantized_matrix {
    aligned_bytes decode, gemm;
    k_packed_matrix(dtype type, int64_t rows, int64_t cols, uint32_t seed)
        : quantized_matrix(type, rows, cols, seed), decode(olm::k_decode_packed_bytes(m)), gemm(olm::gemm_q8_packed_bytes(m)) {
        pack();
    }
    void pack() {
        const int64_t groups = (m.rows + olm::kKDecodeGroupRows - 1) / olm::kKDecodeGroupRows;
        olm::k_decode_pack_groups(m, 0, groups, decode.data);
        olm::gemm_q8_pack_groups(m, 0, groups, gemm.data);
        m.decode_packed = decode.data;
        m.packed = gemm.data;
    }
};

std::string shape(dtype type, int64_t rows, int64_t cols) {
    return olm::dtype_name(type) + std::string(" rows ") + std::to_string(rows) + " cols " + std::to_string(cols);
}

// Row groups streamed 4 (then 2, then 1) side by side from quarters of the range, the last group
// partial; a range that starts at a group boundary past 0.
TEST(KDecode, MatchesTheDequantizedReferenceOnOddShapes) {
    REQUIRE_AVX512_VNNI();
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int64_t cols : {256, 768, 2304})  // 1, 3, 9 super-blocks
            // 1..13 groups: one stream, 2 streams, 4 streams with 0–3 groups left (2 + 1 of them)
            for (const int64_t rows : {1, 15, 16, 17, 33, 49, 64, 67, 100, 200}) {
                const k_packed_matrix w(type, rows, cols, uint32_t(5 * rows + cols));
                const olm_test::q8k_buffer xq(olm_test::random_floats(size_t(cols), uint32_t(cols + 3)));
                std::vector<float> y(size_t(rows), NAN);
                olm::k_decode_rows_avx512_vnni(xq.view, w.m, 0, rows, y.data());
                olm_test::expect_k_rows_match(xq, w, 0, rows, y, shape(type, rows, cols));
                if (rows <= 16) continue;
                std::vector<float> part(size_t(rows), NAN);
                olm::k_decode_rows_avx512_vnni(xq.view, w.m, 16, rows, part.data());
                olm_test::expect_k_rows_match(xq, w, 16, rows, part, shape(type, rows, cols) + " rows [16, end)");
            }
}

// The largest sums the int32 lanes hold: every level at its top (Q4_K 15, Q6_K 63) or Q6_K's
// bottom (0, i.e. −32), the largest scales (Q4_K 63 and min 63; Q6_K ±127, −128), the token at
// ±127 everywhere, over 9 super-blocks.
TEST(KDecode, HoldsTheExtremesOfItsIntegerSums) {
    REQUIRE_AVX512_VNNI();
    const int64_t rows = 20, cols = 2304, blocks = cols / olm::kSuperBlock;
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int level : {0, 1})  // Q6_K: q = 0 and q = 63; Q4_K: q = 15 with min 63, then 0
            for (const float sign : {1.0f, -1.0f}) {
                olm_test::quantized_matrix w(type, rows, cols, 1);
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t b = 0; b < blocks; ++b) {
                        uint8_t* block = w.blocks.data() + r * w.m.row_bytes() + b * olm::dtype_block_bytes(type);
                        const uint16_t one = olm::fp32_to_fp16(r % 2 == 0 ? 1.0f : 0.5f);
                        if (type == dtype::q4_k) {
                            auto& q = *reinterpret_cast<olm::block_q4_k*>(block);
                            q.d = q.dmin = one;
                            std::memset(q.scales, 0xFF, sizeof q.scales);  // every scale and min 63
                            std::memset(q.qs, level == 0 ? 0xFF : 0x00, sizeof q.qs);
                        } else {
                            auto& q = *reinterpret_cast<olm::block_q6_k*>(block);
                            q.d = one;
                            for (int s = 0; s < 16; ++s) q.scales[s] = static_cast<int8_t>(r % 3 == 0 ? -128 : r % 3 == 1 ? 127 : -127);
                            std::memset(q.ql, level == 0 ? 0x00 : 0xFF, sizeof q.ql);
                            std::memset(q.qh, level == 0 ? 0x00 : 0xFF, sizeof q.qh);
                        }
                    }
                olm::dequantize_row(type, w.blocks.data(), w.deq.data(), rows * cols);
                aligned_bytes decode(olm::k_decode_packed_bytes(w.m));
                olm::k_decode_pack_groups(w.m, 0, 2, decode.data);
                w.m.decode_packed = decode.data;
                const olm_test::q8k_buffer xq(std::vector<float>(size_t(cols), sign));
                std::vector<float> y(size_t(rows), NAN);
                olm::k_decode_rows_avx512_vnni(xq.view, w.m, 0, rows, y.data());
                olm_test::expect_k_rows_match(xq, w, 0, rows, y, shape(type, rows, cols) + " level " + std::to_string(level) + " sign " + std::to_string(sign));
            }
}

// As the loader leaves them: original blocks released (data null), the decode copy for one token,
// the GEMM's copy for batches; beside a matrix that keeps its blocks and has no decode copy (the
// row kernels), in one call.
TEST(KDecode, MatmulTakesTheDecodeCopyForOneTokenAndTheGemmForBatches) {
    REQUIRE_AVX512_VNNI();
    olm::thread_pool pool(2);
    for (const dtype type : {dtype::q4_k, dtype::q6_k})
        for (const int64_t n : {1, 3}) {
            k_packed_matrix w(type, 200, 512, 3), w2(type, 40, 512, 4);
            w.m.data = nullptr;
            w2.m.decode_packed = nullptr;
            w2.m.packed = nullptr;
            const std::vector<float> x = olm_test::random_floats(size_t(n * 512), 8);
            std::vector<float> y(size_t(n * 200), NAN), y2(size_t(n * 40), NAN);
            olm::matmul(pool, x.data(), n, {{&w.m, y.data()}, {&w2.m, y2.data()}});
            // one token is quantized per 256-block for the K kernels, batches per 32 for the GEMM
            const int64_t block = n == 1 ? 256 : 32;
            olm_test::expect_float_rows_match(x, n, w, y, shape(type, 200, 512) + " released, n " + std::to_string(n), false, block);
            const bool bf16 = n > 1 && olm::cpu_has_avx512_bf16();
            olm_test::expect_float_rows_match(x, n, w2, y2, shape(type, 40, 512) + " unpacked, n " + std::to_string(n), bf16, block);
        }
}

}  // namespace
