// AVX-512 matmul kernel (compiled with AVX-512 flags; chosen at run time by matmul.cpp).
#include <immintrin.h>

#include "matmul.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;  // tokens whose activations stay in L2 while rows stream by

template <dtype T>
inline __m512 load16(const void* w, int64_t i) {
    if constexpr (T == dtype::f32) {
        return _mm512_loadu_ps(static_cast<const float*>(w) + i);
    } else if constexpr (T == dtype::bf16) {
        __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i)));
    }
}

template <dtype T>
inline __m512 load16_masked(const void* w, int64_t i, __mmask16 m) {
    if constexpr (T == dtype::f32) {
        return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w) + i);
    } else if constexpr (T == dtype::bf16) {
        __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i));
    }
}

// y[t, r] for R rows starting at `row` and TT tokens starting at `t0`.
template <dtype T, int R, int TT>
inline void block(const float* x, int64_t cols, const matrix& w, int64_t row, int64_t t0, float* y) {
    const int64_t es = dtype_size(T);
    const uint8_t* base = static_cast<const uint8_t*>(w.data);
    const void* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = base + (row + r) * cols * es;
    const float* xt[TT];
    for (int t = 0; t < TT; ++t) xt[t] = x + (t0 + t) * cols;

    __m512 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm512_setzero_ps();

    int64_t k = 0;
    for (; k + 16 <= cols; k += 16) {
        __m512 wv[R];
        for (int r = 0; r < R; ++r) wv[r] = load16<T>(wr[r], k);
        for (int t = 0; t < TT; ++t) {
            __m512 xv = _mm512_loadu_ps(xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (k < cols) {
        const __mmask16 m = static_cast<__mmask16>((1u << (cols - k)) - 1);
        __m512 wv[R];
        for (int r = 0; r < R; ++r) wv[r] = load16_masked<T>(wr[r], k, m);
        for (int t = 0; t < TT; ++t) {
            __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int t = 0; t < TT; ++t)
        for (int r = 0; r < R; ++r) y[(t0 + t) * w.rows + row + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <dtype T, int R>
inline void row_block(const float* x, int64_t t_begin, int64_t t_end, const matrix& w, int64_t row, float* y) {
    const int64_t cols = w.cols;
    int64_t t = t_begin;
    for (; t + 4 <= t_end; t += 4) block<T, R, 4>(x, cols, w, row, t, y);
    switch (t_end - t) {
        case 3: block<T, R, 3>(x, cols, w, row, t, y); break;
        case 2: block<T, R, 2>(x, cols, w, row, t, y); break;
        case 1: block<T, R, 1>(x, cols, w, row, t, y); break;
        default: break;
    }
}

template <dtype T>
void rows(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    for (int64_t tc = 0; tc < n; tc += kTokenChunk) {
        const int64_t tc_end = tc + kTokenChunk < n ? tc + kTokenChunk : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) row_block<T, 4>(x, tc, tc_end, w, r, y);
        for (; r < r1; ++r) row_block<T, 1>(x, tc, tc_end, w, r, y);
    }
}

}  // namespace

void matmul_rows_avx512(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    switch (w.type) {
        case dtype::f32: rows<dtype::f32>(x, n, w, r0, r1, y); break;
        case dtype::f16: rows<dtype::f16>(x, n, w, r0, r1, y); break;
        case dtype::bf16: rows<dtype::bf16>(x, n, w, r0, r1, y); break;
        default: break;  // quantized weights go to matmul_rows_q8_*
    }
}

}  // namespace olm
