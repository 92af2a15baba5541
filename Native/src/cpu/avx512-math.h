// avx512-math.h: exp, softmax and the int8 kernels' activation broadcast for the AVX-512 kernels.
// Include it from *-avx512.cpp files only: its inline functions must be compiled with the AVX-512
// flags wherever they are.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace olm {

// 4 activation bytes (one k-quad of a token) in every int32 lane: the signed operand of a
// vpdpbusd against 16 rows' 4 weight bytes (the int8 GEMM and the K types' decode).
inline __m512i broadcast_word(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// exp(x) for x <= 0 (softmax inputs after subtracting the max): 2^(x·log2 e) = 2^i · 2^f with a
// degree-6 polynomial for 2^f on [-0.5, 0.5]; relative error ~2e-7.
inline __m512 exp_ps_avx512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    const __m512 i = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, i);
    __m512 p = _mm512_set1_ps(1.5353362e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3398874e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6182561e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5503342e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022652e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, i);
}

// Softmax of s[0, n) in place.
inline void softmax_avx512(float* s, int32_t n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int32_t j = 0;
    for (; j + 16 <= n; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
    float m = _mm512_reduce_max_ps(mx);
    for (; j < n; ++j) m = std::max(m, s[j]);
    const __m512 mv = _mm512_set1_ps(m);
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
        const __m512 e = exp_ps_avx512(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv));
        _mm512_storeu_ps(s + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < n) {
        const __mmask16 mask = static_cast<__mmask16>((1u << (n - j)) - 1);
        const __m512 e = exp_ps_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, s + j), mv));
        _mm512_mask_storeu_ps(s + j, mask, e);
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(mask, e));
    }
    const float inv = 1.0f / _mm512_reduce_add_ps(sum);
    for (j = 0; j < n; ++j) s[j] *= inv;
}

}  // namespace olm
