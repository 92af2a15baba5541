// quant.h: GGUF's quantized block layouts (Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q6_K) and the reference
// quantizer that writes all of them but Q5_1. The rounding follows llama.cpp's reference quantizer (ggml-quants.c, quantize_row_*_ref,
// what llama_model_quantize uses without an importance matrix) so that both produce the same
// bytes for the same float32 input; docs/QUANTIZATION.md states the rules.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

// value[i] = d · (q[i] − 16), q 5 bits: the low 4 as in Q4_0, bit 4 of element i in bit i of qh.
struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQuantBlock / 2];
};

// value[i] = d · q[i] + m, q 5 bits as in Q5_0.
struct block_q5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[kQuantBlock / 2];
};

constexpr int64_t kSuperBlock = 256;  // elements per Q4_K / Q6_K block

// 8 sub-blocks of 32: value = d · sc[j] · q − dmin · m[j], q a nibble; the 6-bit sc and m of the 8
// sub-blocks packed in 12 bytes (docs/QUANTIZATION.md). Each 32 bytes of qs hold two sub-blocks:
// low nibbles the first, high nibbles the second.
struct block_q4_k {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qs[kSuperBlock / 2];
};

// 16 sub-blocks of 16: value = d · scales[j] · (q − 32), q 6 bits: low 4 in ql, high 2 in qh.
struct block_q6_k {
    uint8_t ql[kSuperBlock / 2];
    uint8_t qh[kSuperBlock / 4];
    int8_t scales[kSuperBlock / 16];
    uint16_t d;
};

static_assert(sizeof(block_q8_0) == 34, "GGUF Q8_0 block is 34 bytes");
static_assert(sizeof(block_q5_0) == 22 && sizeof(block_q5_1) == 24, "GGUF Q5_0 / Q5_1 blocks are 22 / 24 bytes");
static_assert(sizeof(block_q4_k) == 144 && sizeof(block_q6_k) == 210, "GGUF Q4_K / Q6_K blocks are 144 / 210 bytes");
static_assert(sizeof(block_q4_0) == 18, "GGUF Q4_0 block is 18 bytes");

// IEEE half <-> float, round to nearest even (what ggml's F16C path does). Inline: the kernels
// convert a block scale per block, and a call per block cost Q4_0 decode more than half its speed.
inline uint16_t fp32_to_fp16(float x) { return static_cast<uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)); }
inline float fp16_to_fp32(uint16_t h) { return _cvtsh_ss(h); }

// Sub-block j's 6-bit scale and min of a Q4_K block: j < 4 in the low 6 bits of bytes j and j + 4;
// j ≥ 4 in the nibbles of byte j + 4 with their top 2 bits in the top bits of bytes j − 4 and j.
inline void q4_k_scale_min(const uint8_t* s, int j, int* scale, int* min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4;
        *min = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

// The 6-bit scales (bytes 0..7 of *sc) and mins (*mn) of a Q4_K block from its 12 bytes: bytes
// 0..3 of words 0 and 1 are scales and mins 0..3 (low 6 bits); word 2 holds the low 4 bits of
// scales / mins 4..7, their top 2 bits are the top bits of words 0 / 1 (q4_k_scale_min).
inline void q4_k_scales(const uint8_t* s, uint64_t* sc, uint64_t* mn) {
    uint32_t w[3];
    std::memcpy(w, s, 12);
    const uint32_t sc_hi = (w[2] & 0x0F0F0F0Fu) | ((w[0] >> 2) & 0x30303030u);
    const uint32_t mn_hi = ((w[2] >> 4) & 0x0F0F0F0Fu) | ((w[1] >> 2) & 0x30303030u);
    *sc = uint64_t(w[0] & 0x3F3F3F3Fu) | uint64_t(sc_hi) << 32;
    *mn = uint64_t(w[1] & 0x3F3F3F3Fu) | uint64_t(mn_hi) << 32;
}

// Element e (0..255) of a Q4_K block: its nibble q (0..15). Sub-blocks 2p and 2p + 1 share the 32
// bytes of pair p: low nibbles the first, high nibbles the second.
inline int q4_k_level(const block_q4_k& b, int e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    return (e / 32) % 2 == 0 ? byte & 0xF : byte >> 4;
}

// Element e (0..255) of a Q6_K block: its 6-bit q (0..63; the value is d · scale · (q − 32)). Per
// half of 128: quarter g = (e % 128) / 32 takes the low (g < 2) or high nibble of ql byte
// 64 · half + 32 · (g % 2) + e % 32, and bits 2g, 2g + 1 of qh byte 32 · half + e % 32.
inline int q6_k_level(const block_q6_k& b, int e) {
    const int half = e / 128, g = (e % 128) / 32, l = e % 32;
    const uint8_t low = b.ql[64 * half + l + 32 * (g % 2)];
    const int nibble = g < 2 ? low & 0xF : low >> 4;
    return nibble | ((b.qh[32 * half + l] >> (2 * g)) & 3) << 4;
}

// Quantizes `n` floats (whole blocks of `type`) into blocks of `type` (dtype_has_quantizer):
// Q8_0: d = amax / 127, q = round-half-away(x · (1/d));
// Q4_0: m = the element of largest magnitude (the first, on ties), d = m / −8,
//       q = min(15, trunc(x · (1/d) + 8.5));
// Q5_0: as Q4_0 with d = m / −16, q = min(31, trunc(x · (1/d) + 16.5));
// Q4_K, Q6_K: llama.cpp's fitted scales (quant-k.cpp, docs/QUANTIZATION.md).
void quantize_row(dtype type, const float* x, void* out, int64_t n);
// Whether quantize_row writes `type` (Q8_0, Q4_0, Q5_0, Q4_K, Q6_K; not Q5_1, which llama.cpp's
// Q4_K_M never holds).
bool dtype_has_quantizer(dtype type);
// The K quantizers (quant-k.cpp), n_blocks super-blocks of 256.
void quantize_q4_k(const float* x, block_q4_k* y, int64_t n_blocks);
void quantize_q6_k(const float* x, block_q6_k* y, int64_t n_blocks);
// Whether `type` has the Q8-activation kernels (Q8_0, Q4_0, Q5_0); Q4_K / Q6_K have their own
// decode kernels (cpu/matmul.h), Q5_1 and batches of the K types are dequantized first.
bool dtype_has_q8_kernel(dtype type);
// n floats (whole blocks of `type`, any quantized type) from its blocks.
void dequantize_row(dtype type, const void* blocks, float* out, int64_t n);

// One kv_int8 cache row (dtype.h's kv_row_bytes: head_dim int8, then the float32 scale) from
// head_dim floats: scale = amax / 127, q = round-half-away(x · (1/scale)), Q8_0's rule over the
// whole row, with the scale kept in float32 (the row is one token's head, not a 32-block).
void quantize_kv_int8_row(const float* x, int64_t head_dim, void* row);
// The head_dim values such a row stands for: scale · q.
void dequantize_kv_int8_row(const void* row, int64_t head_dim, float* out);

}  // namespace olm
