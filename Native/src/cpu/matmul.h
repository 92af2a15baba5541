// matmul.h: y = x · Wᵀ for weights in their stored dtype (F32, F16, BF16 converted in registers).
#pragma once

#include <cstdint>
#include <initializer_list>

#include "matrix.h"

namespace olm {

class thread_pool;

struct matmul_out {
    const matrix* w;  // [rows, cols]
    float* y;         // [n, w->rows]
};

// For each target: y[t, r] = sum_k x[t, k] * w[r, k]. All targets share x: [n, cols].
void matmul(thread_pool& pool, const float* x, int64_t n, std::initializer_list<matmul_out> outs);

// Rows [r0, r1) of y for all n tokens; one implementation per instruction set.
using matmul_rows_fn = void (*)(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_avx2(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_avx512(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y);

// BF16 weights on AVX2: activations first reordered by to_bf16_pairs (within each 16-column group
// the even columns, then the odd ones; x_pairs: [n, bf16_pair_columns(cols)]); columns past the last
// full group are read from x. Exact float32 arithmetic, like matmul_rows_avx2.
int64_t bf16_pair_columns(int64_t cols);
void to_bf16_pairs(const float* x, int64_t n, int64_t cols, float* x_pairs);
void matmul_rows_bf16_pairs_avx2(const float* x_pairs, const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1,
                                 float* y);

// BF16 weights × activations rounded to BF16 (AVX-512 BF16 dot products); x_bf16: [n, cols].
void matmul_rows_bf16dot_avx512(const uint16_t* x_bf16, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y);
// out[i] = bf16(x[i]) with round-to-nearest-even, n floats.
void to_bf16_avx512(const float* x, int64_t n, uint16_t* out);

}  // namespace olm
