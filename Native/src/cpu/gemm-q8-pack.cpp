// The int8 GEMM's weight layout (gemm-q8.h): plain byte moves, run once per matrix at load.
#include <cassert>
#include <cstring>

#include "gemm-q8.h"
#include "quant.h"

namespace olm {

namespace {

// Bytes of one (group, block): the weight vectors, then 16 float scales.
int64_t packed_block_bytes(dtype type) { return (type == dtype::q4_0 ? 4 : 8) * 64 + kGemmGroupRows * 4; }

}  // namespace

bool gemm_q8_packable(const matrix& w) { return w.type == dtype::q8_0 || w.type == dtype::q4_0; }

int64_t gemm_q8_packed_bytes(const matrix& w) {
    const int64_t groups = (w.rows + kGemmGroupRows - 1) / kGemmGroupRows;
    return groups * (w.cols / 32) * packed_block_bytes(w.type);
}

void gemm_q8_pack_groups(const matrix& w, int64_t g0, int64_t g1, void* out) {
    assert(gemm_q8_packable(w));
    const int64_t blocks = w.cols / 32, pbb = packed_block_bytes(w.type), vectors = w.type == dtype::q4_0 ? 4 : 8;
    const int64_t bb = dtype_block_bytes(w.type);
    for (int64_t g = g0; g < g1; ++g) {
        for (int64_t b = 0; b < blocks; ++b) {
            auto* dst = static_cast<uint8_t*>(out) + (g * blocks + b) * pbb;
            std::memset(dst, 0, static_cast<size_t>(pbb));  // padding rows: zero bytes, scale 0
            auto* scales = reinterpret_cast<float*>(dst + vectors * 64);
            for (int64_t r = 0; r < kGemmGroupRows && g * kGemmGroupRows + r < w.rows; ++r) {
                const uint8_t* block = static_cast<const uint8_t*>(w.data) + (g * kGemmGroupRows + r) * w.row_bytes() + b * bb;
                uint16_t d16;
                std::memcpy(&d16, block, 2);
                scales[r] = fp16_to_fp32(d16);
                const uint8_t* qs = block + 2;
                for (int64_t j = 0; j < vectors; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        const uint8_t q = qs[4 * j + i];
                        // Q8_0: value + 128 (the kernel's unsigned operand); Q4_0 bytes as stored.
                        dst[j * 64 + r * 4 + i] = w.type == dtype::q8_0 ? uint8_t(q ^ 0x80) : q;
                    }
                }
            }
        }
    }
}

int32_t gemm_q8_corr_k(dtype type) { return type == dtype::q4_0 ? 8 : 128; }

}  // namespace olm
