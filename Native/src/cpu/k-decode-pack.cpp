// The K types' decode layout (k-decode.h): plain byte moves, run once per matrix at load.
#include <cassert>
#include <cstring>

#include "k-decode.h"
#include "quant.h"

namespace olm {

namespace {

using namespace k_layout;

int64_t packed_block_bytes(dtype type) { return type == dtype::q4_k ? kQ4kBytes : kQ6kBytes; }

// Row r of a group, super-block `blk` of Q4_K, into dst (one (group, super-block)).
void pack_q4_k(const block_q4_k& blk, int64_t r, uint8_t* dst) {
    for (int js = 0; js < 8; ++js) {
        int sc, m;
        q4_k_scale_min(blk.scales, js, &sc, &m);
        dst[kQ4kScales + 16 * js + r] = static_cast<uint8_t>(sc);
        dst[kQ4kMins + 32 * (js / 2) + 2 * r + js % 2] = static_cast<uint8_t>(m);
        for (int v = 0; v < 4; ++v)
            for (int i = 0; i < 4; ++i) {
                const int k = 32 * js + 4 * v + i;
                dst[256 * js + 64 * v + 4 * r + i] = static_cast<uint8_t>(q4_k_level(blk, k) | q4_k_level(blk, k + 16) << 4);
            }
    }
    std::memcpy(dst + kQ4kD + 2 * r, &blk.d, 2);
    std::memcpy(dst + kQ4kDmin + 2 * r, &blk.dmin, 2);
}

void pack_q6_k(const block_q6_k& blk, int64_t r, uint8_t* dst) {
    for (int js = 0; js < 8; ++js) {
        uint8_t* pair = dst + kQ6kPairBytes * js;
        for (int v = 0; v < 4; ++v)
            for (int i = 0; i < 4; ++i) {
                const int k = 32 * js + 4 * v + i;
                const int lo = q6_k_level(blk, k), hi = q6_k_level(blk, k + 16);
                pair[64 * v + 4 * r + i] = static_cast<uint8_t>((lo & 0xF) | (hi & 0xF) << 4);
                pair[kQ6kTops + 4 * r + i] |= static_cast<uint8_t>((lo >> 4) << (2 * v));
                pair[kQ6kTops + 64 + 4 * r + i] |= static_cast<uint8_t>((hi >> 4) << (2 * v));
            }
    }
    for (int s = 0; s < 16; ++s) dst[kQ6kScales + 16 * s + r] = static_cast<uint8_t>(blk.scales[s]);
    std::memcpy(dst + kQ6kD + 2 * r, &blk.d, 2);
}

}  // namespace

bool k_decode_packable(const matrix& w) { return w.type == dtype::q4_k || w.type == dtype::q6_k; }

int64_t k_decode_packed_bytes(const matrix& w) {
    const int64_t groups = (w.rows + kKDecodeGroupRows - 1) / kKDecodeGroupRows;
    return groups * (w.cols / kSuperBlock) * packed_block_bytes(w.type);
}

void k_decode_pack_groups(const matrix& w, int64_t g0, int64_t g1, void* out) {
    assert(k_decode_packable(w) && w.data != nullptr);
    const int64_t blocks = w.cols / kSuperBlock, pbb = packed_block_bytes(w.type);
    for (int64_t g = g0; g < g1; ++g) {
        for (int64_t b = 0; b < blocks; ++b) {
            auto* dst = static_cast<uint8_t*>(out) + (g * blocks + b) * pbb;
            std::memset(dst, 0, static_cast<size_t>(pbb));  // padding rows: zero bytes, scale 0
            for (int64_t r = 0; r < kKDecodeGroupRows && g * kKDecodeGroupRows + r < w.rows; ++r) {
                const uint8_t* row = static_cast<const uint8_t*>(w.data) + (g * kKDecodeGroupRows + r) * w.row_bytes();
                if (w.type == dtype::q4_k) {
                    pack_q4_k(reinterpret_cast<const block_q4_k*>(row)[b], r, dst);
                } else {
                    pack_q6_k(reinterpret_cast<const block_q6_k*>(row)[b], r, dst);
                }
            }
        }
    }
}

}  // namespace olm
