// AVX2 + FMA matmul kernel: the baseline every supported CPU runs.
#include <immintrin.h>

#include "matmul.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;  // tokens whose activations stay in L2 while rows stream by

template <dtype T>
inline __m256 load8(const void* w, int64_t i) {
    if constexpr (T == dtype::f32) {
        return _mm256_loadu_ps(static_cast<const float*>(w) + i);
    } else if constexpr (T == dtype::bf16) {
        __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + i)));
    }
}

template <dtype T>
inline float load1(const void* w, int64_t i) {
    if constexpr (T == dtype::f32) {
        return static_cast<const float*>(w)[i];
    } else if constexpr (T == dtype::bf16) {
        return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(static_cast<const uint16_t*>(w)[i]) << 16)));
    } else {
        return _cvtsh_ss(static_cast<const uint16_t*>(w)[i]);
    }
}

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <dtype T, int R, int TT>
inline void block(const float* x, int64_t cols, const matrix& w, int64_t row, int64_t t0, float* y) {
    const int64_t es = dtype_size(T);
    const uint8_t* base = static_cast<const uint8_t*>(w.data);
    const void* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = base + (row + r) * cols * es;
    const float* xt[TT];
    for (int t = 0; t < TT; ++t) xt[t] = x + (t0 + t) * cols;

    __m256 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= cols; k += 8) {
        __m256 wv[R];
        for (int r = 0; r < R; ++r) wv[r] = load8<T>(wr[r], k);
        for (int t = 0; t < TT; ++t) {
            __m256 xv = _mm256_loadu_ps(xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int t = 0; t < TT; ++t) {
        for (int r = 0; r < R; ++r) {
            float s = hsum(acc[r][t]);
            for (int64_t kk = k; kk < cols; ++kk) s += load1<T>(wr[r], kk) * xt[t][kk];
            y[(t0 + t) * w.rows + row + r] = s;
        }
    }
}

template <dtype T, int R>
inline void row_block(const float* x, int64_t t_begin, int64_t t_end, const matrix& w, int64_t row, float* y) {
    const int64_t cols = w.cols;
    int64_t t = t_begin;
    for (; t + 2 <= t_end; t += 2) block<T, R, 2>(x, cols, w, row, t, y);
    if (t < t_end) block<T, R, 1>(x, cols, w, row, t, y);
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

// BF16 weights against activations stored as "pairs": within each 16-column group, the 8 even
// columns then the 8 odd ones. A 256-bit load of 16 BF16 weights then becomes two float vectors
// with one shift (even columns) and one mask (odd columns), instead of a widening shuffle per 8
// weights: the conversion no longer competes with the FMAs, so decode runs at memory speed.
inline __m256 bf16_even(__m256i w) { return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)); }
inline __m256 bf16_odd(__m256i w) {
    return _mm256_castsi256_ps(_mm256_and_si256(w, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// Columns past the last full 16-group, from the plain activations.
inline float bf16_tail(const uint16_t* w, const float* x, int64_t k0, int64_t cols) {
    float s = 0.0f;
    for (int64_t k = k0; k < cols; ++k) s += load1<dtype::bf16>(w, k) * x[k];
    return s;
}

// R rows × TT tokens; each (row, token) keeps separate even/odd accumulators when TT == 1 so
// that eight independent FMA chains hide the FMA latency of a single decode token.
template <int R, int TT>
inline void pair_block(const float* xp, const float* x, int64_t cols, int64_t cols16, const matrix& w, int64_t row,
                       int64_t t0, float* y) {
    const uint16_t* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint16_t*>(w.data) + (row + r) * cols;
    __m256 acc[R][TT], acc_odd[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = acc_odd[r][t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < cols16; k += 16) {
        for (int r = 0; r < R; ++r) {
            const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r] + k));
            if constexpr (TT == 1) {
                // The same columns of the row R rows ahead: the next row block streams in while
                // this one is multiplied (hardware prefetch alone leaves decode well short of the
                // machine's read bandwidth).
                if ((k & 31) == 0) _mm_prefetch(reinterpret_cast<const char*>(wr[r] + R * cols + k), _MM_HINT_T0);
            }
            const __m256 we = bf16_even(wv), wo = bf16_odd(wv);
            for (int t = 0; t < TT; ++t) {
                const float* xt = xp + (t0 + t) * cols16 + k;
                if constexpr (TT == 1) {
                    acc[r][t] = _mm256_fmadd_ps(we, _mm256_loadu_ps(xt), acc[r][t]);
                    acc_odd[r][t] = _mm256_fmadd_ps(wo, _mm256_loadu_ps(xt + 8), acc_odd[r][t]);
                } else {
                    acc[r][t] = _mm256_fmadd_ps(we, _mm256_loadu_ps(xt), acc[r][t]);
                    acc[r][t] = _mm256_fmadd_ps(wo, _mm256_loadu_ps(xt + 8), acc[r][t]);
                }
            }
        }
    }
    for (int t = 0; t < TT; ++t)
        for (int r = 0; r < R; ++r) {
            const __m256 sum = TT == 1 ? _mm256_add_ps(acc[r][t], acc_odd[r][t]) : acc[r][t];
            y[(t0 + t) * w.rows + row + r] = hsum(sum) + bf16_tail(wr[r], x + (t0 + t) * cols, cols16, cols);
        }
}

template <int R>
inline void pair_row_block(const float* xp, const float* x, int64_t t_begin, int64_t t_end, const matrix& w, int64_t cols16,
                           int64_t row, float* y) {
    const int64_t cols = w.cols;
    int64_t t = t_begin;
    if (t_end - t_begin == 1) {
        pair_block<R, 1>(xp, x, cols, cols16, w, row, t, y);
        return;
    }
    for (; t + 3 <= t_end; t += 3) pair_block<R, 3>(xp, x, cols, cols16, w, row, t, y);
    if (t_end - t == 2) pair_block<R, 2>(xp, x, cols, cols16, w, row, t, y);
    if (t_end - t == 1) pair_block<R, 1>(xp, x, cols, cols16, w, row, t, y);
}

}  // namespace

int64_t bf16_pair_columns(int64_t cols) { return cols / 16 * 16; }

void to_bf16_pairs(const float* x, int64_t n, int64_t cols, float* out) {
    const int64_t cols16 = bf16_pair_columns(cols);
    for (int64_t t = 0; t < n; ++t) {
        const float* src = x + t * cols;
        float* dst = out + t * cols16;
        for (int64_t k = 0; k < cols16; k += 16) {
            for (int i = 0; i < 8; ++i) {
                dst[k + i] = src[k + 2 * i];
                dst[k + 8 + i] = src[k + 2 * i + 1];
            }
        }
    }
}

void matmul_rows_bf16_pairs_avx2(const float* x_pairs, const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1,
                                 float* y) {
    const int64_t cols16 = bf16_pair_columns(w.cols);
    for (int64_t tc = 0; tc < n; tc += kTokenChunk) {
        const int64_t tc_end = tc + kTokenChunk < n ? tc + kTokenChunk : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) pair_row_block<4>(x_pairs, x, tc, tc_end, w, cols16, r, y);
        for (; r < r1; ++r) pair_row_block<1>(x_pairs, x, tc, tc_end, w, cols16, r, y);
    }
}

void matmul_rows_avx2(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    switch (w.type) {
        case dtype::f32: rows<dtype::f32>(x, n, w, r0, r1, y); break;
        case dtype::f16: rows<dtype::f16>(x, n, w, r0, r1, y); break;
        case dtype::bf16: rows<dtype::bf16>(x, n, w, r0, r1, y); break;
    }
}

}  // namespace olm
