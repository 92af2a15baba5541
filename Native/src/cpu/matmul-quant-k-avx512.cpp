// AVX-512 VNNI decode kernels for Q4_K / Q6_K weights against activations quantized per
// 256-block (matmul.h q8k_activations): 64 weights per vpdpbusd (unsigned weight bytes × signed
// activation bytes), so each int32 lane sums 4 products of one sub-block; two such vectors are
// packed to int16 and scaled by their sub-blocks' integer scales with one vpmaddwd, one float FMA
// per super-block applies d · d_x. Q4_K's minimums (through the activations' sums per 32) and
// Q6_K's −32 offset (sums per 16) are applied at the end.
#include <immintrin.h>

#include <cassert>
#include <cstring>

#include "k-rows.h"
#include "matmul.h"
#include "quant.h"

namespace olm {

namespace {

// 32 int16 lane indices: lane i (128-bit lane L = i / 8, position i % 8) picks
// first + lane_offset[L] + (i % 8 >= 4 ? second : 0): the scale of the sub-block whose products
// _mm512_packs_epi32(a, b) puts there (a's 4 int32 lanes 4L..4L+3, then b's, per 128-bit lane).
inline __m512i packed_scale_index(int first, const int (&lane_offset)[4], int second) {
    alignas(64) int16_t idx[32];
    for (int i = 0; i < 32; ++i) idx[i] = static_cast<int16_t>(first + lane_offset[i / 8] + (i % 8 >= 4 ? second : 0));
    return _mm512_load_si512(idx);
}

// Each int32 lane of a vpdpbusd sums 4 products of one sub-block, at most 15 · 127 · 4 (Q4_K) or
// 63 · 127 · 4 (Q6_K) < 2^15: two such vectors are packed to int16 and multiplied by their
// sub-blocks' scales with one vpmaddwd, instead of a permute and a 32-bit multiply each.

struct q4_k_step {
    using block_type = block_q4_k;
    struct acc {
        __m512 sum;
        __m128 min;
    };
    static acc zero() { return {_mm512_setzero_ps(), _mm_setzero_ps()}; }

    static void step(const q8k_activations& x, int64_t b, const block_q4_k& blk, acc& a) {
        const __m512i nibble = _mm512_set1_epi8(0x0F);
        // Half q of a super-block (64 weight bytes): the low nibbles hold sub-blocks 4q (bytes
        // 0..31) and 4q + 2 (32..63), the high nibbles 4q + 1 and 4q + 3; x.qs_q4k is in that order.
        static constexpr int kHalves[4] = {0, 0, 2, 2};  // a's int32 lanes 0..7 are one sub-block, 8..15 the next but one
        static const __m512i scale_index[2] = {packed_scale_index(0, kHalves, 1), packed_scale_index(4, kHalves, 1)};
        const int8_t* xq = x.qs_q4k + b * kSuperBlock;
        _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096, _MM_HINT_T0);
        // The block's first 16 bytes, as 32-bit lanes: [d | dmin, A, B, C], scales[12] = A B C.
        // The 6-bit scales and mins unpacked in one register, as q4_k_scales does with 64-bit words:
        // bytes 0..7 the scales (A & 63, then C's low nibbles | A's top bits), 8..15 the minimums
        // (B & 63, then C's high nibbles | B's top bits).
        const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&blk));
        const __m128i low6 = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(head, _MM_SHUFFLE(3, 2, 3, 1)), _mm_setr_epi32(0, 0, 0, 4)),
                                           _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
        const __m128i top2 = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(head, _MM_SHUFFLE(2, 2, 1, 1)), 2),
                                           _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
        const __m128i scales_mins = _mm_or_si128(low6, top2);
        const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(scales_mins));
        __m512i sumi = _mm512_setzero_si512();
        for (int q = 0; q < 2; ++q) {
            const __m512i bytes = _mm512_loadu_si512(blk.qs + 64 * q);
            const __m512i lo = _mm512_and_si512(bytes, nibble), hi = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nibble);
            const __m512i dot_lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(xq + 128 * q));
            const __m512i dot_hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_loadu_si512(xq + 128 * q + 64));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_packs_epi32(dot_lo, dot_hi), _mm512_permutexvar_epi16(scale_index[q], sc16)));
        }
        // d · d_x and dmin · d_x from the two fp16 in lane 0
        const __m128 d_dmin = _mm_mul_ps(_mm_cvtph_ps(head), _mm_set1_ps(x.d[b]));
        a.sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_broadcastss_ps(d_dmin), a.sum);
        // Σ_j m_j · (sum of sub-block j's activations), subtracted at the end.
        const __m128i mins = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_unpackhi_epi64(scales_mins, scales_mins)),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums32 + b * 8)));
        a.min = _mm_fmadd_ps(_mm_cvtepi32_ps(mins), _mm_permute_ps(d_dmin, 0x55), a.min);
    }

    static float finish(const acc& a) {
        const __m128 m2 = _mm_add_ps(a.min, _mm_movehl_ps(a.min, a.min));
        return _mm512_reduce_add_ps(a.sum) - _mm_cvtss_f32(_mm_add_ss(m2, _mm_movehdup_ps(m2)));
    }
};

struct q6_k_step {
    using block_type = block_q6_k;
    struct acc {
        __m512 sum;
        __m256 offset;
    };
    static acc zero() { return {_mm512_setzero_ps(), _mm256_setzero_ps()}; }

    static void step(const q8k_activations& x, int64_t b, const block_q6_k& blk, acc& a) {
        const __m512i nibble = _mm512_set1_epi8(0x0F), two_bits = _mm512_set1_epi8(3);
        // qh (32 bytes) is broadcast to both halves of a register: shifted per 64-bit lane, its 2-bit
        // fields for elements 0..31 | 32..63 (bits 0-1 | 2-3) and 64..95 | 96..127 (4-5 | 6-7).
        const __m512i shift_lo = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2), shift_hi = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
        // Half h: the low vector holds sub-blocks (of 16) 8h..8h+3, the high one 8h+4..8h+7.
        static constexpr int kQuarters[4] = {0, 1, 2, 3};  // 4 int32 lanes per sub-block of 16
        static const __m512i scale_index[2] = {packed_scale_index(0, kQuarters, 4), packed_scale_index(8, kQuarters, 4)};
        const int8_t* xq = x.qs + b * kSuperBlock;
        _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096, _MM_HINT_T0);
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(sc8));
        __m512i sumi = _mm512_setzero_si512();
        for (int half = 0; half < 2; ++half) {
            const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * half);
            const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * half)));
            const __m512i lo = _mm512_or_si512(_mm512_and_si512(ql, nibble),
                                               _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, shift_lo), two_bits), 4));
            const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble),
                                               _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, shift_hi), two_bits), 4));
            const __m512i dot_lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(xq + 128 * half));
            const __m512i dot_hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_loadu_si512(xq + 128 * half + 64));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_packs_epi32(dot_lo, dot_hi), _mm512_permutexvar_epi16(scale_index[half], sc16)));
        }
        const float d = fp16_to_fp32(blk.d) * x.d[b];
        a.sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(d), a.sum);
        // The −32 offset: 32 · Σ_j scale_j · (sum of sub-block j's activations), subtracted at the end.
        const __m256i offset = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums + b * 16)), _mm256_cvtepi8_epi16(sc8));
        a.offset = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offset), _mm256_set1_ps(32.0f * d), a.offset);
    }

    static float finish(const acc& a) {
        const __m128 o4 = _mm_add_ps(_mm256_castps256_ps128(a.offset), _mm256_extractf128_ps(a.offset, 1));
        const __m128 o2 = _mm_add_ps(o4, _mm_movehl_ps(o4, o4));
        return _mm512_reduce_add_ps(a.sum) - _mm_cvtss_f32(_mm_add_ss(o2, _mm_movehdup_ps(o2)));
    }
};

}  // namespace

namespace {

// 32 values (a, b: elements 0..15, 16..31) as BF16.
inline void store_bf16(__m512 a, __m512 b, uint16_t* out) {
    const __m512bh ab = _mm512_cvtne2ps_pbh(b, a);
    _mm512_storeu_si512(out, reinterpret_cast<const __m512i&>(ab));
}

// 16 unsigned bytes as floats.
inline __m512 bytes_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)); }

}  // namespace

void dequantize_k_block_bf16_avx512(dtype type, const uint8_t* block, uint16_t* out) {
    if (type == dtype::q4_k) {
        // As dequantize_q4_k: d·sc_j · q − dmin·m_j, the product rounded before the subtraction.
        const auto& b = *reinterpret_cast<const block_q4_k*>(block);
        const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
        uint64_t sc, mn;
        q4_k_scales(b.scales, &sc, &mn);
        for (int p = 0; p < 4; ++p) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * p));
            const __m256i halves[2] = {_mm256_and_si256(q, _mm256_set1_epi8(0x0F)), _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0F))};
            for (int h = 0; h < 2; ++h) {
                const int j = 2 * p + h;
                const __m512 d1 = _mm512_set1_ps(d * float((sc >> (8 * j)) & 0xFF)), m1 = _mm512_set1_ps(dmin * float((mn >> (8 * j)) & 0xFF));
                const __m512 lo = _mm512_sub_ps(_mm512_mul_ps(d1, bytes_to_ps(_mm256_castsi256_si128(halves[h]))), m1);
                const __m512 hi = _mm512_sub_ps(_mm512_mul_ps(d1, bytes_to_ps(_mm256_extracti128_si256(halves[h], 1))), m1);
                store_bf16(lo, hi, out + 32 * j);
            }
        }
        return;
    }
    // Q6_K: (d·scale_j) · (q − 32), q from ql nibbles and qh 2-bit fields as in q6_k_row.
    const auto& b = *reinterpret_cast<const block_q6_k*>(block);
    const float d = fp16_to_fp32(b.d);
    const __m256i nibble = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
    for (int half = 0; half < 2; ++half) {
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * half));
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * half));
        const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * half + 32));
        const __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, nibble), _mm256_slli_epi16(_mm256_and_si256(qh, two_bits), 4)),
            _mm256_or_si256(_mm256_and_si256(ql1, nibble), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two_bits), 4)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two_bits), 4)),
        };
        const __m512 offset = _mm512_set1_ps(32.0f);
        for (int k = 0; k < 4; ++k) {
            const int j = 8 * half + 2 * k;  // sub-blocks j (elements 0..15 of the 32) and j + 1
            const __m512 lo = _mm512_mul_ps(_mm512_set1_ps(d * float(b.scales[j])), _mm512_sub_ps(bytes_to_ps(_mm256_castsi256_si128(q[k])), offset));
            const __m512 hi = _mm512_mul_ps(_mm512_set1_ps(d * float(b.scales[j + 1])), _mm512_sub_ps(bytes_to_ps(_mm256_extracti128_si256(q[k], 1)), offset));
            store_bf16(lo, hi, out + 128 * half + 32 * k);
        }
    }
}

void matmul_rows_k_avx512_vnni(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    k_decode_rows<q4_k_step, q6_k_step>(x, w, r0, r1, y);
}

}  // namespace olm
