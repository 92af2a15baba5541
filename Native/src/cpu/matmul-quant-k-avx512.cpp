// AVX-512 VNNI decode kernels for Q4_K / Q6_K weights against activations quantized per
// 256-block (matmul.h q8k_activations): 64 weights per vpdpbusd (unsigned weight bytes × signed
// activation bytes), so each int32 lane sums 4 products of one sub-block; the lanes are scaled by
// their sub-block's integer scale in int32, one float FMA per super-block applies d · d_x. Q4_K's
// minimums and Q6_K's −32 offset go through the activations' sums per 16 elements.
#include <immintrin.h>

#include <cassert>
#include <cstring>

#include "k-rows.h"
#include "matmul.h"
#include "quant.h"

namespace olm {

namespace {

// Lane i of a 16-lane index vector: `first` + i / `group`.
inline __m512i lane_groups(int first, int group) {
    alignas(64) int32_t idx[16];
    for (int i = 0; i < 16; ++i) idx[i] = first + i / group;
    return _mm512_load_si512(idx);
}

float q4_k_row(const q8k_activations& x, const block_q4_k* w) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    // Pair p's scales: sub-block 2p in lanes 0..7 (low nibbles), 2p + 1 in lanes 8..15.
    static const __m512i pair_scale[4] = {lane_groups(0, 8), lane_groups(2, 8), lane_groups(4, 8), lane_groups(6, 8)};
    __m512 acc = _mm512_setzero_ps();
    __m256 acc_min = _mm256_setzero_ps();
    for (int64_t b = 0; b < x.blocks; ++b) {
        const block_q4_k& blk = w[b];
        const int8_t* xq = x.qs + b * kSuperBlock;
        _mm_prefetch(reinterpret_cast<const char*>(&blk) + 1024, _MM_HINT_T0);
        uint64_t sc, mn;
        q4_k_scales(blk.scales, &sc, &mn);
        const __m512i sc32 = _mm512_castsi256_si512(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
        __m512i sumi = _mm512_setzero_si512();
        for (int p = 0; p < 4; ++p) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * p));
            const __m512i u = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), nibble);
            const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512(xq + 64 * p));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, _mm512_permutexvar_epi32(pair_scale[p], sc32)));
        }
        const float dx = x.d[b];
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(fp16_to_fp32(blk.d) * dx), acc);
        const __m128i m8 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mn)));
        const __m256i m16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
        const __m256i mins = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums + b * 16)), m16);
        acc_min = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(fp16_to_fp32(blk.dmin) * dx), acc_min);
    }
    const __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(acc_min), _mm256_extractf128_ps(acc_min, 1));
    const __m128 m2 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
    return _mm512_reduce_add_ps(acc) - _mm_cvtss_f32(_mm_add_ss(m2, _mm_movehdup_ps(m2)));
}

float q6_k_row(const q8k_activations& x, const block_q6_k* w) {
    const __m512i nibble = _mm512_set1_epi8(0x0F), two_bits = _mm512_set1_epi8(3);
    // qh (32 bytes) is broadcast to both halves of a register: shifted per 64-bit lane, its 2-bit
    // fields for elements 0..31 | 32..63 (bits 0-1 | 2-3) and 64..95 | 96..127 (4-5 | 6-7).
    const __m512i shift_lo = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2), shift_hi = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
    // Sub-block scales for 64 elements: 4 sub-blocks of 16, 4 lanes each.
    static const __m512i quad_scale[4] = {lane_groups(0, 4), lane_groups(4, 4), lane_groups(8, 4), lane_groups(12, 4)};
    __m512 acc = _mm512_setzero_ps();
    __m256 acc_offset = _mm256_setzero_ps();
    for (int64_t b = 0; b < x.blocks; ++b) {
        const block_q6_k& blk = w[b];
        const int8_t* xq = x.qs + b * kSuperBlock;
        _mm_prefetch(reinterpret_cast<const char*>(&blk) + 1024, _MM_HINT_T0);
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
        const __m512i sc32 = _mm512_cvtepi8_epi32(sc8);
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
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot_lo, _mm512_permutexvar_epi32(quad_scale[2 * half], sc32)));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot_hi, _mm512_permutexvar_epi32(quad_scale[2 * half + 1], sc32)));
        }
        const float d = fp16_to_fp32(blk.d) * x.d[b];
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(d), acc);
        // The −32 offset: 32 · Σ_j scale_j · (sum of sub-block j's activations), subtracted at the end.
        const __m256i offset = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums + b * 16)), _mm256_cvtepi8_epi16(sc8));
        acc_offset = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offset), _mm256_set1_ps(32.0f * d), acc_offset);
    }
    const __m128 o4 = _mm_add_ps(_mm256_castps256_ps128(acc_offset), _mm256_extractf128_ps(acc_offset, 1));
    const __m128 o2 = _mm_add_ps(o4, _mm_movehl_ps(o4, o4));
    return _mm512_reduce_add_ps(acc) - _mm_cvtss_f32(_mm_add_ss(o2, _mm_movehdup_ps(o2)));
}

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
    k_decode_rows<q4_k_row, q6_k_row>(x, w, r0, r1, y);
}

}  // namespace olm
