#include "quant.h"

#include <immintrin.h>

#include <cassert>
#include <cmath>

namespace olm {

uint16_t fp32_to_fp16(float x) { return static_cast<uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)); }
float fp16_to_fp32(uint16_t h) { return _cvtsh_ss(h); }

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

void quantize_q4_0(const float* x, block_q4_0* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kQuantBlock) {
        float amax = 0.0f, max = 0.0f;  // the signed value of the first element of largest magnitude
        for (int64_t i = 0; i < kQuantBlock; ++i) {
            if (std::fabs(x[i]) > amax) {
                amax = std::fabs(x[i]);
                max = x[i];
            }
        }
        const float d = max / -8.0f;
        const float inv = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        auto nibble = [&](float v) {
            const int q = static_cast<int>(v * inv + 8.5f);  // truncation; v · inv + 8.5 lies in [0.5, 16.5]
            return static_cast<uint8_t>(q < 15 ? q : 15);
        };
        for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
            y[b].qs[j] = static_cast<uint8_t>(nibble(x[j]) | nibble(x[j + kQuantBlock / 2]) << 4);
        }
    }
}

}  // namespace

void quantize_row(dtype type, const float* x, void* out, int64_t n) {
    assert(n % kQuantBlock == 0);
    if (type == dtype::q8_0) {
        quantize_q8_0(x, static_cast<block_q8_0*>(out), n / kQuantBlock);
    } else {
        assert(type == dtype::q4_0);
        quantize_q4_0(x, static_cast<block_q4_0*>(out), n / kQuantBlock);
    }
}

void dequantize_row(dtype type, const void* blocks, float* out, int64_t n) {
    assert(n % kQuantBlock == 0);
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

}  // namespace olm
