// Decode kernels for Q4_K / Q6_K weights (one token) against activations quantized per 256-block
// (matmul.h q8k_activations), AVX2, and that activation quantizer. The weights are widened to
// bytes in registers, never in memory; every sub-block's products are exact in int32 and scaled
// by its integer scale there, one float FMA per super-block applies d · d_x. The minimum (Q4_K)
// and the −32 offset (Q6_K) are applied through the activations' sums per 16 elements.
#include <immintrin.h>

#include <cassert>
#include <cstring>

#include "avx2-math.h"
#include "k-rows.h"
#include "matmul.h"
#include "quant.h"

namespace olm {

namespace {

// Each int16 of a 256-bit vector set to the int16 at `index` of the 8 in `v8` (both lanes).
inline __m256i broadcast_i16(__m256i v8_both_lanes, int index) {
    return _mm256_shuffle_epi8(v8_both_lanes, _mm256_set1_epi16(static_cast<short>((2 * index + 1) << 8 | 2 * index)));
}

struct q4_k_step {
    using block_type = block_q4_k;
    struct acc {
        __m256 sum, min;
    };
    static acc zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }

    static void step(const q8k_activations& x, int64_t b, const block_q4_k& blk, acc& a) {
        const __m256i nibble = _mm256_set1_epi8(0x0F);
        const int8_t* xq = x.qs + b * kSuperBlock;
        uint64_t sc, mn;
        q4_k_scales(blk.scales, &sc, &mn);
        const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
        __m256i sumi = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {  // 64 elements: sub-block 2p (low nibbles), 2p + 1 (high)
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * p));
            const __m256i lo = _mm256_and_si256(q, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
            const __m256i p_lo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * p)));
            const __m256i p_hi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * p + 32)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p_lo, broadcast_i16(sc16, 2 * p)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p_hi, broadcast_i16(sc16, 2 * p + 1)));
        }
        const float dx = x.d[b];
        a.sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(fp16_to_fp32(blk.d) * dx), a.sum);
        // Σ_j m_j · (sums of the two 16-element halves of sub-block j)
        const __m128i m8 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mn)));
        const __m256i m16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
        const __m256i mins = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums + b * 16)), m16);
        a.min = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(fp16_to_fp32(blk.dmin) * dx), a.min);
    }

    static float finish(const acc& a) { return hsum(a.sum) - hsum(a.min); }
};

struct q6_k_step {
    using block_type = block_q6_k;
    using acc = __m256;
    static acc zero() { return _mm256_setzero_ps(); }

    static void step(const q8k_activations& x, int64_t b, const block_q6_k& blk, acc& a) {
        const __m256i nibble = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
        const int8_t* xq = x.qs + b * kSuperBlock;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
        // The −32 offset: −32 · Σ_j scale_j · (sum of sub-block j's activations).
        const __m256i offset = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums + b * 16)), sc16);
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = blk.ql + 64 * half;
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * half));
            const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            // Elements 32k .. 32k + 31 of the half: a nibble of ql0 / ql1, bits 2k, 2k + 1 of qh.
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, nibble), _mm256_slli_epi16(_mm256_and_si256(qh, two_bits), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, nibble), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two_bits), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two_bits), 4)),
            };
            // Scales of this half's 8 sub-blocks in both lanes; lane 0 of the 32 elements is one
            // sub-block of 16, lane 1 the next.
            const __m256i half_sc = half == 0 ? _mm256_permute2x128_si256(sc16, sc16, 0x00) : _mm256_permute2x128_si256(sc16, sc16, 0x11);
            for (int k = 0; k < 4; ++k) {
                const __m256i prod = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 128 * half + 32 * k)));
                const __m256i pick = _mm256_setr_epi8(4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                                                      4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3, 4 * k + 2,
                                                      4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2,
                                                      4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(prod, _mm256_shuffle_epi8(half_sc, pick)));
            }
        }
        a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(fp16_to_fp32(blk.d) * x.d[b]), a);
    }

    static float finish(const acc& a) { return hsum(a); }
};

}  // namespace

bool dtype_has_k_decode_kernel(dtype type) { return type == dtype::q4_k || type == dtype::q6_k; }

int64_t q8k_activation_bytes(int64_t cols) { return 2 * cols + cols / kSuperBlock * (16 * 2 + 8 * 2 + 4); }

q8k_activations quantize_activations_q8k(const float* x, int64_t cols, void* buffer) {
    assert(cols % kSuperBlock == 0);
    q8k_activations q;
    q.blocks = cols / kSuperBlock;
    auto* qs = static_cast<int8_t*>(buffer);
    auto* qs_q4k = qs + cols;
    auto* bsums = reinterpret_cast<int16_t*>(qs_q4k + cols);
    auto* bsums32 = bsums + q.blocks * 16;
    auto* d = reinterpret_cast<float*>(bsums32 + q.blocks * 8);
    q.qs = qs;
    q.qs_q4k = qs_q4k;
    q.bsums = bsums;
    q.bsums32 = bsums32;
    q.d = d;
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < q.blocks; ++b) {
        const float* src = x + b * kSuperBlock;
        __m256 amax = _mm256_setzero_ps();
        for (int j = 0; j < kSuperBlock; j += 8) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, _mm256_loadu_ps(src + j)));
        const float scale = hmax(amax) / 127.0f;
        const __m256 inv = _mm256_set1_ps(scale != 0.0f ? 1.0f / scale : 0.0f);
        d[b] = scale;
        for (int j = 0; j < kSuperBlock; j += 32) {
            __m256i q32[4];
            for (int k = 0; k < 4; ++k) q32[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 8 * k), inv));  // nearest even
            const __m256i p16a = _mm256_packs_epi32(q32[0], q32[1]), p16b = _mm256_packs_epi32(q32[2], q32[3]);
            const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + b * kSuperBlock + j), p8);
            // Sums of the two 16-element halves: pairs summed to int16, then within each lane.
            const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), p8);
            const __m256i s32 = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));  // 4 sums of 4 per lane
            const __m256i s2 = _mm256_hadd_epi32(s32, s32);                        // lane: [a, b, a, b]
            const __m256i s1 = _mm256_hadd_epi32(s2, s2);                          // lane: the lane's sum
            bsums[b * 16 + j / 16] = static_cast<int16_t>(_mm256_cvtsi256_si32(s1));
            bsums[b * 16 + j / 16 + 1] = static_cast<int16_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(s1, 1)));
            bsums32[b * 8 + j / 32] = static_cast<int16_t>(bsums[b * 16 + j / 16] + bsums[b * 16 + j / 16 + 1]);
        }
        // The Q4_K nibble order: per 128, elements 0..31, 64..95, 32..63, 96..127.
        static constexpr int kQ4kOrder[8] = {0, 64, 32, 96, 128, 192, 160, 224};
        for (int c = 0; c < 8; ++c) std::memcpy(qs_q4k + b * kSuperBlock + 32 * c, qs + b * kSuperBlock + kQ4kOrder[c], 32);
    }
    return q;
}

void matmul_rows_k_avx2(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    k_decode_rows<q4_k_step, q6_k_step>(x, w, r0, r1, y);
}

}  // namespace olm
