// quant.h: GGUF's quantized block layouts (Q8_0, Q4_0) and the reference quantizer that writes
// them. The rounding follows llama.cpp's reference quantizer (ggml-quants.c, quantize_row_*_ref,
// what llama_model_quantize uses without an importance matrix) so that both produce the same
// bytes for the same float32 input; docs/QUANTIZATION.md states the rules.
#pragma once

#include <cstdint>

#include "dtype.h"

namespace olm {

constexpr int64_t kQuantBlock = 32;  // elements per Q8_0 / Q4_0 block

// value[i] = d · qs[i]
struct block_q8_0 {
    uint16_t d;  // scale, IEEE half
    int8_t qs[kQuantBlock];
};

// value[i] = d · (q[i] − 8), q[i] a nibble: qs[j] holds element j in its low nibble and
// element j + 16 in its high nibble.
struct block_q4_0 {
    uint16_t d;  // scale, IEEE half
    uint8_t qs[kQuantBlock / 2];
};

static_assert(sizeof(block_q8_0) == 34, "GGUF Q8_0 block is 34 bytes");
static_assert(sizeof(block_q4_0) == 18, "GGUF Q4_0 block is 18 bytes");

// IEEE half <-> float, round to nearest even (what ggml's F16C path does).
uint16_t fp32_to_fp16(float x);
float fp16_to_fp32(uint16_t h);

// Quantizes `n` floats (a multiple of kQuantBlock) into n / 32 blocks of `type` (Q8_0 or Q4_0):
// Q8_0: d = amax / 127, q = round-half-away(x · (1/d));
// Q4_0: m = the element of largest magnitude (the first, on ties), d = m / −8,
//       q = min(15, trunc(x · (1/d) + 8.5)).
void quantize_row(dtype type, const float* x, void* out, int64_t n);
// The inverse: n floats from n / 32 blocks of `type`.
void dequantize_row(dtype type, const void* blocks, float* out, int64_t n);

}  // namespace olm
