#include "quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace olm {

namespace {

void quantize_q8_0(const float* x, block_q8_0* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kQuantBlock) {
        float amax = 0.0f;
        for (int64_t i = 0; i < kQuantBlock; ++i) amax = std::fmax(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float inv = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int64_t i = 0; i < kQuantBlock; ++i) y[b].qs[i] = static_cast<int8_t>(std::round(x[i] * inv));
    }
}

// The signed value of the first element of largest magnitude in a block: Q4_0 and Q5_0 put it at
// the scale's extreme level (-8 or -16), as llama.cpp does, so the match is bit for bit.
float signed_max(const float* x) {
    float amax = 0.0f, max = 0.0f;
    for (int64_t i = 0; i < kQuantBlock; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    return max;
}

// The block's scale d = max / -levels and the level of each value, q = trunc(v / d + levels + 0.5)
// clamped to 2·levels - 1 (v / d + levels + 0.5 lies in [0.5, 2·levels + 0.5]).
struct symmetric_levels {
    float d, inv, offset;  // offset = levels + 0.5, exact, added in one rounding as llama.cpp does
    int top;

    symmetric_levels(const float* x, int levels)
        : d(signed_max(x) / static_cast<float>(-levels)), inv(d != 0.0f ? 1.0f / d : 0.0f),
          offset(static_cast<float>(levels) + 0.5f), top(2 * levels - 1) {}

    int operator()(float v) const {
        const int q = static_cast<int>(v * inv + offset);
        return q < top ? q : top;
    }
};

void quantize_q4_0(const float* x, block_q4_0* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kQuantBlock) {
        const symmetric_levels level(x, 8);
        y[b].d = fp32_to_fp16(level.d);
        for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
            y[b].qs[j] = static_cast<uint8_t>(level(x[j]) | level(x[j + kQuantBlock / 2]) << 4);
        }
    }
}

void quantize_q5_0(const float* x, block_q5_0* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kQuantBlock) {
        const symmetric_levels level(x, 16);
        y[b].d = fp32_to_fp16(level.d);
        uint32_t qh = 0;
        for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
            const int lo = level(x[j]), hi = level(x[j + kQuantBlock / 2]);
            y[b].qs[j] = static_cast<uint8_t>((lo & 0xF) | (hi & 0xF) << 4);
            qh |= uint32_t(lo >> 4) << j | uint32_t(hi >> 4) << (j + kQuantBlock / 2);
        }
        std::memcpy(y[b].qh, &qh, 4);
    }
}

}  // namespace

void quantize_row(dtype type, const float* x, void* out, int64_t n) {
    assert(n % dtype_block_elements(type) == 0);
    switch (type) {
        case dtype::q8_0: quantize_q8_0(x, static_cast<block_q8_0*>(out), n / kQuantBlock); return;
        case dtype::q4_0: quantize_q4_0(x, static_cast<block_q4_0*>(out), n / kQuantBlock); return;
        case dtype::q5_0: quantize_q5_0(x, static_cast<block_q5_0*>(out), n / kQuantBlock); return;
        case dtype::q4_k: quantize_q4_k(x, static_cast<block_q4_k*>(out), n / kSuperBlock); return;
        case dtype::q6_k: quantize_q6_k(x, static_cast<block_q6_k*>(out), n / kSuperBlock); return;
        default: assert(!"no quantizer for this type");
    }
}

bool dtype_has_quantizer(dtype type) {
    return type == dtype::q8_0 || type == dtype::q4_0 || type == dtype::q5_0 || type == dtype::q4_k || type == dtype::q6_k;
}

bool dtype_has_q8_kernel(dtype type) { return type == dtype::q8_0 || type == dtype::q4_0 || type == dtype::q5_0; }

namespace {

void dequantize_q5(const uint8_t* qh_bytes, const uint8_t* qs, float d, float m, bool centered, float* out) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 16; ++j) {
        const int lo = (qs[j] & 0xF) | int((qh >> j) & 1) << 4;
        const int hi = (qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4;
        out[j] = centered ? d * float(lo - 16) : d * float(lo) + m;
        out[j + 16] = centered ? d * float(hi - 16) : d * float(hi) + m;
    }
}

void dequantize_q4_k(const block_q4_k& b, float* out) {
    const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
    for (int pair = 0; pair < 4; ++pair) {  // 64 elements: sub-blocks 2·pair (low nibbles), 2·pair + 1 (high)
        const uint8_t* q = b.qs + 32 * pair;
        int sc, m;
        q4_k_scale_min(b.scales, 2 * pair, &sc, &m);
        const float d1 = d * float(sc), m1 = dmin * float(m);
        q4_k_scale_min(b.scales, 2 * pair + 1, &sc, &m);
        const float d2 = d * float(sc), m2 = dmin * float(m);
        for (int l = 0; l < 32; ++l) {
            out[64 * pair + l] = d1 * float(q[l] & 0xF) - m1;
            out[64 * pair + 32 + l] = d2 * float(q[l] >> 4) - m2;
        }
    }
}

// Each half of 128: ql[l] low nibble → element l, ql[l + 32] low → l + 32, ql[l] high → l + 64,
// ql[l + 32] high → l + 96; qh[l] bits 0-1, 2-3, 4-5, 6-7 are their top 2 bits; scale of 16.
void dequantize_q6_k(const block_q6_k& b, float* out) {
    const float d = fp16_to_fp32(b.d);
    for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = b.ql + 64 * half;
        const uint8_t* qh = b.qh + 32 * half;
        const int8_t* sc = b.scales + 8 * half;
        float* y = out + 128 * half;
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
            const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
            const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
            y[l] = d * float(sc[is]) * float(q1);
            y[l + 32] = d * float(sc[is + 2]) * float(q2);
            y[l + 64] = d * float(sc[is + 4]) * float(q3);
            y[l + 96] = d * float(sc[is + 6]) * float(q4);
        }
    }
}

}  // namespace

void dequantize_row(dtype type, const void* blocks, float* out, int64_t n) {
    assert(n % dtype_block_elements(type) == 0);
    switch (type) {
        case dtype::q5_0:
            for (int64_t b = 0; b < n / kQuantBlock; ++b) {
                const block_q5_0& blk = static_cast<const block_q5_0*>(blocks)[b];
                dequantize_q5(blk.qh, blk.qs, fp16_to_fp32(blk.d), 0.0f, true, out + b * kQuantBlock);
            }
            return;
        case dtype::q5_1:
            for (int64_t b = 0; b < n / kQuantBlock; ++b) {
                const block_q5_1& blk = static_cast<const block_q5_1*>(blocks)[b];
                dequantize_q5(blk.qh, blk.qs, fp16_to_fp32(blk.d), fp16_to_fp32(blk.m), false, out + b * kQuantBlock);
            }
            return;
        case dtype::q4_k:
            for (int64_t b = 0; b < n / kSuperBlock; ++b) dequantize_q4_k(static_cast<const block_q4_k*>(blocks)[b], out + b * kSuperBlock);
            return;
        case dtype::q6_k:
            for (int64_t b = 0; b < n / kSuperBlock; ++b) dequantize_q6_k(static_cast<const block_q6_k*>(blocks)[b], out + b * kSuperBlock);
            return;
        default: break;
    }
    for (int64_t b = 0; b < n / kQuantBlock; ++b, out += kQuantBlock) {
        if (type == dtype::q8_0) {
            const block_q8_0& blk = static_cast<const block_q8_0*>(blocks)[b];
            const float d = fp16_to_fp32(blk.d);
            for (int64_t i = 0; i < kQuantBlock; ++i) out[i] = d * float(blk.qs[i]);
        } else {
            const block_q4_0& blk = static_cast<const block_q4_0*>(blocks)[b];
            const float d = fp16_to_fp32(blk.d);
            for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
                out[j] = d * float((blk.qs[j] & 0xF) - 8);
                out[j + kQuantBlock / 2] = d * float((blk.qs[j] >> 4) - 8);
            }
        }
    }
}

void quantize_kv_int8_row(const float* x, int64_t head_dim, void* row) {
    float amax = 0.0f;
    for (int64_t i = 0; i < head_dim; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float scale = amax / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    int8_t* q = static_cast<int8_t*>(row);
    for (int64_t i = 0; i < head_dim; ++i) q[i] = static_cast<int8_t>(std::round(x[i] * inv));
    std::memcpy(q + head_dim, &scale, sizeof(float));
}

void dequantize_kv_int8_row(const void* row, int64_t head_dim, float* out) {
    const int8_t* q = static_cast<const int8_t*>(row);
    float scale;
    std::memcpy(&scale, q + head_dim, sizeof(float));
    for (int64_t i = 0; i < head_dim; ++i) out[i] = scale * float(q[i]);
}

}  // namespace olm
