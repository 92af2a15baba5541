// AVX2 + FMA matmul kernel: the baseline every supported CPU runs.
#include <immintrin.h>

#include "avx2-math.h"
#include "matmul.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;        // tokens whose activations stay in L2 while rows stream by
constexpr int kDecodePrefetchBytes = 1024;  // how far ahead of its reads decode prefetches a row

template <dtype T>
inline __m256 load8(const void* w, int64_t i) {
    if constexpr (T == dtype::f32) {
        return _mm256_loadu_ps(static_cast<const float*>(w) + i);
    } else if constexpr (T == dtype::bf16) {
        return widen_bf16x8(static_cast<const uint16_t*>(w) + i);
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

// One token (decode) against one row at a time: the weights are read in pure address order, one
// stream per thread, which the hardware prefetchers follow best, plus a software prefetch 1 KiB
// ahead. On Zen 3 this reads ~30% faster than walking 4 rows side by side (whose streams restart
// every row block); four accumulators per row hide the FMA latency.
inline void pair_row_decode(const float* xp, const float* x, int64_t cols, int64_t cols16, const matrix& w, int64_t row,
                            float* y) {
    const uint16_t* wr = static_cast<const uint16_t*>(w.data) + row * cols;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= cols16; k += 32) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + k));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + k + 16));
        _mm_prefetch(reinterpret_cast<const char*>(wr + k) + kDecodePrefetchBytes, _MM_HINT_T0);
        a0 = _mm256_fmadd_ps(bf16_even(w0), _mm256_loadu_ps(xp + k), a0);
        a1 = _mm256_fmadd_ps(bf16_odd(w0), _mm256_loadu_ps(xp + k + 8), a1);
        a2 = _mm256_fmadd_ps(bf16_even(w1), _mm256_loadu_ps(xp + k + 16), a2);
        a3 = _mm256_fmadd_ps(bf16_odd(w1), _mm256_loadu_ps(xp + k + 24), a3);
    }
    for (; k < cols16; k += 16) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + k));
        a0 = _mm256_fmadd_ps(bf16_even(w0), _mm256_loadu_ps(xp + k), a0);
        a1 = _mm256_fmadd_ps(bf16_odd(w0), _mm256_loadu_ps(xp + k + 8), a1);
    }
    y[row] = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + bf16_tail(wr, x, cols16, cols);
}

// Several tokens (prefill, batched decode): R rows' widened weights (even columns, then odd ones)
// stay in registers while each token's activations are loaded once for all R rows. R = 4, TT = 2
// (8 accumulators + 4 weights + 1 activation register) measured fastest on Zen 3 among R×TT in
// {2×4, 3×4, 4×3, 4×2, 5×2, 6×2} with `bench-kernels --benchmark_filter=Matmul`.
template <int R, int TT>
inline void pair_block_tokens(const float* xp, const float* x, int64_t cols, int64_t cols16, const matrix& w, int64_t row,
                              int64_t t0, float* y) {
    const uint16_t* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint16_t*>(w.data) + (row + r) * cols;
    const float* xt[TT];
    for (int t = 0; t < TT; ++t) xt[t] = xp + (t0 + t) * cols16;
    __m256 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < cols16; k += 16) {
        __m256i wv[R];
        for (int r = 0; r < R; ++r) wv[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r] + k));
        __m256 wf[R];
        for (int r = 0; r < R; ++r) wf[r] = bf16_even(wv[r]);
        for (int t = 0; t < TT; ++t) {
            const __m256 xe = _mm256_loadu_ps(xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wf[r], xe, acc[r][t]);
        }
        for (int r = 0; r < R; ++r) wf[r] = bf16_odd(wv[r]);
        for (int t = 0; t < TT; ++t) {
            const __m256 xo = _mm256_loadu_ps(xt[t] + k + 8);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wf[r], xo, acc[r][t]);
        }
    }
    for (int t = 0; t < TT; ++t)
        for (int r = 0; r < R; ++r)
            y[(t0 + t) * w.rows + row + r] = hsum(acc[r][t]) + bf16_tail(wr[r], x + (t0 + t) * cols, cols16, cols);
}

template <int R>
inline void pair_tokens(const float* xp, const float* x, int64_t t_begin, int64_t t_end, const matrix& w, int64_t cols16,
                        int64_t row, float* y) {
    const int64_t cols = w.cols;
    int64_t t = t_begin;
    for (; t + 2 <= t_end; t += 2) pair_block_tokens<R, 2>(xp, x, cols, cols16, w, row, t, y);
    if (t < t_end) pair_block_tokens<R, 1>(xp, x, cols, cols16, w, row, t, y);
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
    const int64_t cols = w.cols, cols16 = bf16_pair_columns(cols);
    if (n == 1) {
        for (int64_t r = r0; r < r1; ++r) pair_row_decode(x_pairs, x, cols, cols16, w, r, y);
        return;
    }
    for (int64_t tc = 0; tc < n; tc += kTokenChunk) {
        const int64_t tc_end = tc + kTokenChunk < n ? tc + kTokenChunk : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) pair_tokens<4>(x_pairs, x, tc, tc_end, w, cols16, r, y);
        for (; r < r1; ++r) pair_tokens<1>(x_pairs, x, tc, tc_end, w, cols16, r, y);
    }
}

void matmul_rows_avx2(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    switch (w.type) {
        case dtype::f32: rows<dtype::f32>(x, n, w, r0, r1, y); break;
        case dtype::f16: rows<dtype::f16>(x, n, w, r0, r1, y); break;
        case dtype::bf16: rows<dtype::bf16>(x, n, w, r0, r1, y); break;
        default: break;  // quantized weights go to matmul_rows_q8_*
    }
}

}  // namespace olm
