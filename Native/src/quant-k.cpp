// quant-k.cpp: the Q4_K and Q6_K quantizers (super-blocks of 256), after the rules of llama.cpp's
// reference quantizers (ggml-quants.c quantize_row_q4_K_ref / quantize_row_q6_K_ref, what
// llama_model_quantize runs without an importance matrix), so that our Q4_K_M files carry the
// error llama.cpp's do. docs/QUANTIZATION.md states the rules.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant.h"

namespace olm {

namespace {

// Round to nearest, ties to even (the default rounding mode), as llama.cpp's helper does.
inline int round_even(float v) { return static_cast<int>(std::lrint(v)); }

// One sub-block of `n` values as L[i] ∈ [0, nmax] with value ≈ scale · L − min_out (min_out ≥ 0):
// start from the range [min(0, min x), max x] split into nmax steps, then try nstep + 1 other step
// counts (nmax + rmin + rdelta · k) and keep the weighted least-squares fit of scale and min to
// each rounding whose weighted squared error is the smallest. Returns the scale.
float fit_scale_and_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* min_out, float rmin,
                        float rdelta, int nstep) {
    float lo = x[0], hi = x[0];
    float sum_w = weights[0], sum_x = weights[0] * x[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
        sum_w += weights[i];
        sum_x += weights[i] * x[i];
    }
    lo = std::min(lo, 0.0f);  // the offset only ever lowers the grid
    if (hi == lo) {
        std::fill(L, L + n, uint8_t(0));
        *min_out = -lo;
        return 0.0f;
    }
    float iscale = float(nmax) / (hi - lo);
    float scale = 1.0f / iscale;
    float best_error = 0.0f;
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(std::clamp(round_even(iscale * (x[i] - lo)), 0, nmax));
        const float diff = scale * float(L[i]) + lo - x[i];
        best_error += weights[i] * diff * diff;
    }
    uint8_t trial[32];
    for (int k = 0; k <= nstep; ++k) {
        iscale = (rmin + rdelta * float(k) + float(nmax)) / (hi - lo);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(round_even(iscale * (x[i] - lo)), 0, nmax);
            trial[i] = static_cast<uint8_t>(l);
            sum_l += weights[i] * float(l);
            sum_l2 += weights[i] * float(l) * float(l);
            sum_xl += weights[i] * float(l) * x[i];
        }
        const float det = sum_w * sum_l2 - sum_l * sum_l;
        if (det <= 0) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) {  // a positive offset is not representable: refit the scale alone
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float error = 0;
        for (int i = 0; i < n; ++i) {
            const float diff = this_scale * float(trial[i]) + this_min - x[i];
            error += weights[i] * diff * diff;
        }
        if (error < best_error) {
            std::copy(trial, trial + n, L);
            best_error = error;
            scale = this_scale;
            lo = this_min;
        }
    }
    *min_out = -lo;
    return scale;
}

// One sub-block of 16 as a signed scale (the element of largest magnitude maps to −32): of the
// grids with −(32 + 0.1 k) steps at that element, k in [−9, 9], the one whose x²-weighted
// least-squares scale explains most of x. Returns that scale (0 for an all-zero sub-block).
float fit_signed_scale(const float* x) {
    constexpr int n = 16, nmax = 32;
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    if (amax < 1e-15f) return 0.0f;
    auto fit = [&](float iscale, float* sumlx, float* suml2) {
        *sumlx = *suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const float l = float(std::clamp(round_even(iscale * x[i]), -nmax, nmax - 1));
            const float w = x[i] * x[i];
            *sumlx += w * x[i] * l;
            *suml2 += w * l * l;
        }
    };
    float sumlx, suml2;
    fit(-float(nmax) / max, &sumlx, &suml2);
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int k = -9; k <= 9; ++k) {
        if (k == 0) continue;
        fit(-(float(nmax) + 0.1f * float(k)) / max, &sumlx, &suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// Packs sub-block j's 6-bit scale and min into Q4_K's 12 bytes (the inverse of q4_k_scale_min).
void pack_q4_k_scale_min(uint8_t* s, int j, int scale, int min) {
    if (j < 4) {
        s[j] = static_cast<uint8_t>(scale);
        s[j + 4] = static_cast<uint8_t>(min);
    } else {
        s[j + 4] = static_cast<uint8_t>((scale & 0xF) | (min & 0xF) << 4);
        s[j - 4] |= static_cast<uint8_t>((scale >> 4) << 6);
        s[j] |= static_cast<uint8_t>((min >> 4) << 6);
    }
}

}  // namespace

void quantize_q4_k(const float* x, block_q4_k* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kSuperBlock) {
        block_q4_k& out = y[b];
        uint8_t L[kSuperBlock];
        float scales[8], mins[8], weights[32];
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
            const float* xs = x + 32 * j;
            // Weights favour the large elements of the sub-block over its RMS.
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
            const float rms = std::sqrt(sum_x2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = rms + std::fabs(xs[l]);
            scales[j] = fit_scale_and_min(32, 15, xs, weights, L + 32 * j, &mins[j], -1.0f, 0.1f, 20);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        // The 8 scales and mins as 6-bit multiples of the block's d and dmin.
        const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        std::memset(out.scales, 0, sizeof(out.scales));
        for (int j = 0; j < 8; ++j) {
            // uint8_t first (llama.cpp's conversion), then capped at 63.
            const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(round_even(inv_scale * scales[j])));
            const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(round_even(inv_min * mins[j])));
            pack_q4_k_scale_min(out.scales, j, ls, lm);
        }
        out.d = fp32_to_fp16(max_scale / 63.0f);
        out.dmin = fp32_to_fp16(max_min / 63.0f);
        // Requantize against the stored (rounded) scales and mins.
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            q4_k_scale_min(out.scales, j, &sc, &m);
            const float d = fp16_to_fp32(out.d) * float(sc);
            if (d == 0.0f) continue;  // keeps the fit's L: every value decodes to −dm anyway
            const float dm = fp16_to_fp32(out.dmin) * float(m);
            for (int i = 0; i < 32; ++i) L[32 * j + i] = static_cast<uint8_t>(std::clamp(round_even((x[32 * j + i] + dm) / d), 0, 15));
        }
        for (int p = 0; p < 4; ++p)
            for (int l = 0; l < 32; ++l) out.qs[32 * p + l] = static_cast<uint8_t>(L[64 * p + l] | L[64 * p + 32 + l] << 4);
    }
}

void quantize_q6_k(const float* x, block_q6_k* y, int64_t n_blocks) {
    for (int64_t b = 0; b < n_blocks; ++b, x += kSuperBlock) {
        block_q6_k& out = y[b];
        float scales[16];
        float max_scale = 0, max_abs_scale = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = fit_signed_scale(x + 16 * j);
            if (std::fabs(scales[j]) > max_abs_scale) {
                max_abs_scale = std::fabs(scales[j]);
                max_scale = scales[j];
            }
        }
        std::memset(&out, 0, sizeof(out));
        if (max_abs_scale < 1e-15f) continue;  // all zero: d = 0
        // The sub-block scales as int8 multiples of d; the largest maps to −128 (clamped to 127
        // when positive).
        const float iscale = -128.0f / max_scale;
        out.d = fp32_to_fp16(1.0f / iscale);
        for (int j = 0; j < 16; ++j) out.scales[j] = static_cast<int8_t>(std::min(127, round_even(iscale * scales[j])));
        int8_t L[kSuperBlock];  // q − 32 … stored as q ∈ [0, 63]
        for (int i = 0; i < kSuperBlock; ++i) L[i] = 32;
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(out.d) * float(out.scales[j]);
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; ++i) L[16 * j + i] = static_cast<int8_t>(std::clamp(round_even(x[16 * j + i] / d), -32, 31) + 32);
        }
        // Layout as dequantize_q6_k reads it: per half of 128, ql[l] / ql[l + 32] hold elements
        // l, l + 32 (low nibbles) and l + 64, l + 96 (high); qh[l] their top 2 bits, 2 bits each.
        for (int half = 0; half < 2; ++half) {
            const int8_t* q = L + 128 * half;
            uint8_t* ql = out.ql + 64 * half;
            uint8_t* qh = out.qh + 32 * half;
            for (int l = 0; l < 32; ++l) {
                ql[l] = static_cast<uint8_t>((q[l] & 0xF) | (q[l + 64] & 0xF) << 4);
                ql[l + 32] = static_cast<uint8_t>((q[l + 32] & 0xF) | (q[l + 96] & 0xF) << 4);
                qh[l] = static_cast<uint8_t>((q[l] >> 4) | (q[l + 32] >> 4) << 2 | (q[l + 64] >> 4) << 4 | (q[l + 96] >> 4) << 6);
            }
        }
    }
}

}  // namespace olm
