// avx2-math.h: small AVX2 helpers shared by the CPU kernels (horizontal reductions, exp, softmax).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace olm {

// Eight BF16 values widened to float32 (a BF16 is the high half of a float32).
inline __m256 widen_bf16x8(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The horizontal sums of eight vectors, as one vector: out[i] = sum of a[i]'s lanes.
inline __m256 hsum8(const __m256* a) {
    const __m256 s01 = _mm256_hadd_ps(a[0], a[1]), s23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 s45 = _mm256_hadd_ps(a[4], a[5]), s67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 t0 = _mm256_hadd_ps(s01, s23), t1 = _mm256_hadd_ps(s45, s67);
    // t0 = [a0..a3 partial (low lanes) | a0..a3 partial (high lanes)], t1 likewise for a4..a7.
    return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
}

inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// exp(x) for x <= 0 (softmax inputs after subtracting the max): 2^(x·log2 e) = 2^i · 2^f with a
// degree-6 polynomial for 2^f on [-0.5, 0.5]; relative error ~2e-7. Inputs below -87 give ~0.
inline __m256 exp_ps(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
    const __m256 i = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(t, i);
    __m256 p = _mm256_set1_ps(1.5353362e-4f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3398874e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.6182561e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.5503342e-2f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.4022652e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.9314718e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    // 2^i: i in [-126, 0] here, added to the exponent field.
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(i), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// s[j] = exp(s[j] - max) for s[0, n) in place, unnormalised; *max_out = the max. Returns the sum
// of the exponentials.
inline float exp_against_max(float* s, int32_t n, float* max_out) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int32_t j = 0;
    for (; j + 8 <= n; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    float m = hmax(mx);
    for (; j < n; ++j) m = std::max(m, s[j]);
    const __m256 mv = _mm256_set1_ps(m);
    __m256 sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
        _mm256_storeu_ps(s + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    float total = hsum(sum);
    for (; j < n; ++j) {
        s[j] = std::exp(s[j] - m);
        total += s[j];
    }
    *max_out = m;
    return total;
}

// Softmax of s[0, n) in place.
inline void softmax(float* s, int32_t n) {
    float m;
    const float total = exp_against_max(s, n, &m);
    const __m256 inv = _mm256_set1_ps(1.0f / total);
    int32_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < n; ++j) s[j] *= 1.0f / total;
}

// silu(g) = g · sigmoid(g) for 8 floats, through exp(-|g|) so nothing overflows:
// sigmoid(g) = 1 / (1 + e) for g >= 0, e / (1 + e) for g < 0, with e = exp(-|g|).
inline __m256 silu_ps(__m256 g) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_and_ps(g, abs_mask)));
    const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    const __m256 negative = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 sigmoid = _mm256_blendv_ps(inv, _mm256_mul_ps(e, inv), negative);
    return _mm256_mul_ps(g, sigmoid);
}

}  // namespace olm
