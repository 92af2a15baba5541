// k-decode.h: one token (decode) against Q4_K / Q6_K weights on AVX-512 VNNI CPUs, over a copy of
// the weights repacked once at load so that 16 rows are read side by side, as the Q8_0 / Q4_0
// decode reads the GEMM's layout (gemm-q8.h), but at the GGUF blocks' size: the GEMM's K layout
// widens the sub-block scales to float and would stream 384/288 (Q4_K) of the bytes.
// docs/QUANTIZATION.md, "The K types' decode layout".
//
// Rows in groups of 16 (the last group padded with zero rows, scale 0), each group's super-blocks
// (256 k) in order. One (group, super-block) of Q4_K, 2368 bytes (16 GGUF blocks: 2304):
//   [0, 2048)    8 sub-blocks js of 32 k, each 4 vectors of 64 bytes: vector v's lane r (4 bytes)
//                holds row r's k = 32js + 4v + i (i = 0..3) in its low nibbles and
//                k = 32js + 16 + 4v + i in its high nibbles (q = 0..15);
//   [2048, 2176) the 6-bit scales, uint8 [js][row];
//   [2176, 2304) the 6-bit mins as pairs, uint8 [p][row][2] = m_{2p}, m_{2p+1} (one int16 pair per
//                row for vpdpwssd against the activations' sums of sub-blocks 2p, 2p + 1);
//   [2304, 2336) d, fp16 [row]; [2336, 2368) dmin, fp16 [row].
// One (group, super-block) of Q6_K, 3392 bytes (16 GGUF blocks: 3360, padded to whole 64-byte lines):
//   [0, 3072)    8 pairs js of 16-element sub-blocks (32 k), each 384 bytes: 4 vectors of 64
//                bytes, lane r = the low 4 bits of q for k = 32js + 4v + i (low nibbles) and
//                32js + 16 + 4v + i (high nibbles), as Q4_K; then 2 vectors of the top 2 bits,
//                the first for the low nibbles' k, the second for the high nibbles': bits 2v, 2v + 1
//                of byte 4r + i belong to vector v's byte 4r + i (q = 0..63, value d · scale · (q − 32));
//   [3072, 3328) the scales, int8 [sub-block of 16][row];
//   [3328, 3360) d, fp16 [row]; [3360, 3392) zero.
#pragma once

#include <cstdint>

#include "matmul.h"
#include "matrix.h"

namespace olm {

constexpr int64_t kKDecodeGroupRows = 16;

// The offsets above, for the packer and the kernel.
namespace k_layout {
constexpr int64_t kQ4kBytes = 2368, kQ4kScales = 2048, kQ4kMins = 2176, kQ4kD = 2304, kQ4kDmin = 2336;
constexpr int64_t kQ6kBytes = 3392, kQ6kPairBytes = 384, kQ6kTops = 256, kQ6kScales = 3072, kQ6kD = 3328;
}  // namespace k_layout

// Whether `w` has this layout: Q4_K or Q6_K.
bool k_decode_packable(const matrix& w);
// Bytes of the packed copy of `w`.
int64_t k_decode_packed_bytes(const matrix& w);
// Writes row groups [g0, g1) of `w` (rows [16 g0, 16 g1)) into `out` (k_decode_packed_bytes(w)
// bytes, 64-byte aligned); groups are independent, so callers may split them across threads.
void k_decode_pack_groups(const matrix& w, int64_t g0, int64_t g1, void* out);

// y[r] for rows [r0, r1) (r0 a multiple of 16) of one token against w.decode_packed.
void k_decode_rows_avx512_vnni(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);

}  // namespace olm
