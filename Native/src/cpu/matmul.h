// matmul.h: y = x · Wᵀ for weights in their stored dtype (F32, F16, BF16 converted in registers;
// Q8_0, Q4_0 and Q5_0 against activations quantized to 8 bits per 32-block; in decode, Q4_K and
// Q6_K against activations quantized per 256-block; docs/QUANTIZATION.md).
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

// How quantized weights meet the tokens: int8 (activations quantized to Q8 per block, integer
// dot products row by row over the original blocks), bf16 (rows widened to BF16 in the worker's
// cache, then the BF16 dot-product kernel; AVX-512 BF16 only, else int8) or gemm (the int8 GEMM
// over the weights' packed copy, gemm-q8.h, with a kernel of its own for one token; AVX-512 VNNI
// only; matrices without a packed copy take bf16 from 2 tokens, else int8).
// default_quant_batch_path is the measured choice (docs/QUANTIZATION.md): gemm on VNNI CPUs, decode
// included; the overload takes it explicitly, for benchmarks and tests.
enum class quant_batch_path { int8, bf16, gemm };
quant_batch_path default_quant_batch_path(int64_t n);
void matmul(thread_pool& pool, const float* x, int64_t n, std::initializer_list<matmul_out> outs, quant_batch_path path);

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

// Activations quantized per 32-block for the quantized-weight kernels: x[t, 32b + i] ≈ d · qs[i].
// Each block also carries `corr`, 8 int32 lanes of −k · sum(qs) that the kernels add to their 8
// partial dot products, k set by the weight encoding: the kernels compute with unsigned weights
// (Q4_0: q = value + 8; Q8_0 on VNNI: q = value + 128), whose excess is k · 8 · sum(qs).
struct q8_activations {
    int64_t n = 0;             // tokens
    int64_t blocks = 0;        // blocks per token: cols / 32
    const int8_t* qs = nullptr;     // [n, blocks, 32]
    const int32_t* corr = nullptr;  // [n, blocks, 8]
    const float* d = nullptr;       // [n, blocks, 8]: the block's scale in every lane
};

// Bytes quantize_activations needs for n tokens of `cols` (a multiple of 32).
int64_t q8_activation_bytes(int64_t n, int64_t cols);
// Quantizes tokens [t0, t1) of x: [n, cols] into `buffer` (q8_activation_bytes(n, cols) bytes, 64-byte
// aligned) with d = amax / 127, round to nearest even, corr = −corr_k · sum(qs); returns the view.
q8_activations quantize_activations(const float* x, int64_t n, int64_t cols, int32_t corr_k, void* buffer, int64_t t0,
                                    int64_t t1);

// Rows [r0, r1) of quantized `w` as BF16 (round to nearest even): out [r1 - r0, w.cols].
void dequantize_rows_bf16_avx512(const matrix& w, int64_t r0, int64_t r1, uint16_t* out);

// The corr_k a kernel needs for weights of `type`.
int32_t q8_corr_k_avx2(dtype type);
int32_t q8_corr_k_avx512_vnni(dtype type);
// Rows [r0, r1) of y for Q8_0 / Q4_0 weights; x quantized with the corr_k above.
using matmul_rows_q8_fn = void (*)(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_q8_avx2(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_q8_avx512_vnni(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);

// Decode (one token) against Q4_K / Q6_K weights: the activations quantized per 256-block,
// x[256b + i] ≈ d[b] · qs[256b + i] (d = amax / 127, round to nearest even), with the sums of qs
// per 16 elements (bsums[16b + j]) that apply Q4_K's minimums and Q6_K's −32 offset per sub-block.
// The AVX-512 Q4_K kernel reads the same values in its nibble order (qs_q4k: per 128 elements,
// 0..31, 64..95, 32..63, 96..127 — the low then the high nibbles of 64 weight bytes) and the sums
// per Q4_K sub-block of 32 (bsums32[8b + j]).
struct q8k_activations {
    int64_t blocks = 0;                // cols / 256
    const int8_t* qs = nullptr;        // [blocks, 256]
    const int8_t* qs_q4k = nullptr;    // [blocks, 256]
    const int16_t* bsums = nullptr;    // [blocks, 16]
    const int16_t* bsums32 = nullptr;  // [blocks, 8]
    const float* d = nullptr;          // [blocks]
};
bool dtype_has_k_decode_kernel(dtype type);  // Q4_K, Q6_K
// Bytes quantize_activations_q8k needs for one token of `cols` (a multiple of 256).
int64_t q8k_activation_bytes(int64_t cols);
// `buffer` 64-byte aligned (the AVX-512 kernels load the activations 64 bytes at a time).
q8k_activations quantize_activations_q8k(const float* x, int64_t cols, void* buffer);
// y[r] for r in [r0, r1): one token against Q4_K or Q6_K rows.
void matmul_rows_k_avx2(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);
void matmul_rows_k_avx512_vnni(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);
// One Q4_K / Q6_K super-block as 256 BF16 (round to nearest even), for dequantize_rows_bf16_avx512.
void dequantize_k_block_bf16_avx512(dtype type, const uint8_t* block, uint16_t* out);

}  // namespace olm
