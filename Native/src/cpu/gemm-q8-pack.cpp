// The int8 GEMM's weight layout (gemm-q8.h): plain byte moves, run once per matrix at load.
#include <cassert>
#include <cstring>

#include "gemm-q8.h"
#include "quant.h"

namespace olm {

namespace {

// Bytes of one (group, block): the weight vectors, then the per-row floats (and Q6_K's int32 sums).
int64_t packed_block_bytes(dtype type) {
    switch (type) {
        case dtype::q4_k: return 4 * 64 + 2 * kGemmGroupRows * 4;
        case dtype::q6_k: return 8 * 64 + 4 * kGemmGroupRows * 4;
        default: return 8 * 64 + kGemmGroupRows * 4;
    }
}

// 32-element block b of a K-type row: its levels q (Q4_K: 0..15; Q6_K: q − 32, −32..31) and the
// scales (Q4_K: one scale and one min; Q6_K: the scales of its two 16-element halves).
void k_block_levels(dtype type, const uint8_t* row, int64_t b, int8_t q[32], float scale[2], float* min) {
    const int64_t sub = b % 8;  // 32-element block within the 256-element super-block
    if (type == dtype::q4_k) {
        const auto& blk = reinterpret_cast<const block_q4_k*>(row)[b / 8];
        int sc, m;
        q4_k_scale_min(blk.scales, static_cast<int>(sub), &sc, &m);
        scale[0] = fp16_to_fp32(blk.d) * float(sc);
        *min = fp16_to_fp32(blk.dmin) * float(m);
        for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(q4_k_level(blk, static_cast<int>(32 * sub) + i));
        return;
    }
    assert(type == dtype::q6_k);
    const auto& blk = reinterpret_cast<const block_q6_k*>(row)[b / 8];
    const float d = fp16_to_fp32(blk.d);
    for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(q6_k_level(blk, static_cast<int>(32 * sub) + i) - 32);
    scale[0] = d * float(blk.scales[2 * sub]);
    scale[1] = d * float(blk.scales[2 * sub + 1]);
    *min = 0.0f;
}

void pack_k_block(dtype type, const uint8_t* row, int64_t b, int64_t r, uint8_t* dst) {
    int8_t q[32];
    float scale[2], min;
    k_block_levels(type, row, b, q, scale, &min);
    auto* floats = reinterpret_cast<float*>(dst + (type == dtype::q4_k ? 4 : 8) * 64);
    if (type == dtype::q4_k) {
        for (int j = 0; j < 4; ++j)
            for (int i = 0; i < 4; ++i) dst[j * 64 + r * 4 + i] = static_cast<uint8_t>(q[4 * j + i] | q[16 + 4 * j + i] << 4);
        floats[r] = scale[0];
        floats[kGemmGroupRows + r] = min;
        return;
    }
    int32_t sums[2] = {0, 0};
    for (int j = 0; j < 8; ++j) {
        for (int i = 0; i < 4; ++i) {
            dst[j * 64 + r * 4 + i] = static_cast<uint8_t>(q[4 * j + i]);
            sums[j / 4] += q[4 * j + i];
        }
    }
    floats[r] = scale[0];
    floats[kGemmGroupRows + r] = scale[1];
    auto* excess = reinterpret_cast<int32_t*>(floats + 2 * kGemmGroupRows);
    excess[r] = 128 * sums[0];
    excess[kGemmGroupRows + r] = 128 * sums[1];
}

// Row group g of Q4_0 `w` (gemm-q8.h: chunks of 8 blocks, their vectors, then fp16 scales).
void pack_q4_0_group(const matrix& w, int64_t g, uint8_t* group) {
    const int64_t blocks = w.cols / 32, bb = dtype_block_bytes(w.type);
    std::memset(group, 0, static_cast<size_t>(q4_0_group_bytes(blocks)));  // padding rows: zero bytes, scale 0
    for (int64_t b = 0; b < blocks; ++b) {
        uint8_t* vectors = group + q4_0_vectors_offset(b);
        uint8_t* scales = group + q4_0_scales_offset(blocks, b);
        for (int64_t r = 0; r < kGemmGroupRows && g * kGemmGroupRows + r < w.rows; ++r) {
            const uint8_t* block = static_cast<const uint8_t*>(w.data) + (g * kGemmGroupRows + r) * w.row_bytes() + b * bb;
            std::memcpy(scales + 2 * r, block, 2);  // d, fp16 as stored
            for (int j = 0; j < 4; ++j) std::memcpy(vectors + j * 64 + r * 4, block + 2 + 4 * j, 4);
        }
    }
}

}  // namespace

bool gemm_q8_packable(const matrix& w) {
    return w.type == dtype::q8_0 || w.type == dtype::q4_0 || w.type == dtype::q4_k || w.type == dtype::q6_k;
}

int64_t gemm_q8_packed_bytes(const matrix& w) {
    const int64_t groups = (w.rows + kGemmGroupRows - 1) / kGemmGroupRows;
    return groups * (w.type == dtype::q4_0 ? q4_0_group_bytes(w.cols / 32) : (w.cols / 32) * packed_block_bytes(w.type));
}

void gemm_q8_pack_groups(const matrix& w, int64_t g0, int64_t g1, void* out) {
    assert(gemm_q8_packable(w));
    const int64_t blocks = w.cols / 32, pbb = packed_block_bytes(w.type), vectors = 8;
    const int64_t bb = dtype_block_bytes(w.type);
    const bool k_type = w.type == dtype::q4_k || w.type == dtype::q6_k;
    if (w.type == dtype::q4_0) {
        for (int64_t g = g0; g < g1; ++g) pack_q4_0_group(w, g, static_cast<uint8_t*>(out) + g * q4_0_group_bytes(blocks));
        return;
    }
    for (int64_t g = g0; g < g1; ++g) {
        for (int64_t b = 0; b < blocks; ++b) {
            auto* dst = static_cast<uint8_t*>(out) + (g * blocks + b) * pbb;
            std::memset(dst, 0, static_cast<size_t>(pbb));  // padding rows: zero bytes, scale 0
            auto* scales = reinterpret_cast<float*>(dst + vectors * 64);
            for (int64_t r = 0; r < kGemmGroupRows && g * kGemmGroupRows + r < w.rows; ++r) {
                if (k_type) {
                    pack_k_block(w.type, static_cast<const uint8_t*>(w.data) + (g * kGemmGroupRows + r) * w.row_bytes(), b, r, dst);
                    continue;
                }
                const uint8_t* block = static_cast<const uint8_t*>(w.data) + (g * kGemmGroupRows + r) * w.row_bytes() + b * bb;
                uint16_t d16;
                std::memcpy(&d16, block, 2);
                scales[r] = fp16_to_fp32(d16);
                const uint8_t* qs = block + 2;
                for (int64_t j = 0; j < vectors; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        const uint8_t q = qs[4 * j + i];
                        dst[j * 64 + r * 4 + i] = uint8_t(q ^ 0x80);  // Q8_0: value + 128 (the kernel's unsigned operand)
                    }
                }
            }
        }
    }
}

int32_t gemm_q8_corr_k(dtype type) { return type == dtype::q4_0 ? 8 : type == dtype::q8_0 ? 128 : 1; }

}  // namespace olm
