// gemm-q8.h: Q8_0 / Q4_0 weights × several tokens as an int8 GEMM (AVX-512 VNNI), over a copy of
// the weights repacked once at load into an interleaved layout (docs/QUANTIZATION.md, "Batches:
// the int8 GEMM").
//
// Layout: rows in groups of 16 (the last group padded with zero rows of scale 0), each group's
// blocks in order; one (group, block) is the block's bytes as 64-byte vectors whose lane r
// (4 bytes) holds 4 consecutive k of row r, then the 16 rows' scales as float32:
//   Q4_0: 4 vectors; vector j lane r = bytes 4j..4j+3 of row r's qs, i.e. low nibbles are
//         k = 4j..4j+3 and high nibbles k = 16+4j..16+4j+3 (q = value + 8, unsigned); its scales
//         as fp16, gathered per 8 blocks (below).
//   Q8_0: 8 vectors; vector j lane r = k = 4j..4j+3 of row r, xor 0x80 (value + 128, unsigned).
// so that one vpdpbusd multiplies 16 rows by 4 k of one token (the activation word broadcast).
// The K types are packed per 32 k the same way, their sub-block scales widened to float:
//   Q4_K: 4 vectors as Q4_0 (q = 0..15, unsigned), then 16 scales d·sc and 16 mins dmin·m of the
//         row's 32-element sub-block (value = scale · q − min).
//   Q6_K: 8 vectors of value / scale = q − 32 as signed bytes (the kernel makes the activations
//         unsigned: + 128), then 16 scales of k 0..15, 16 scales of k 16..31 (Q6_K scales 16
//         elements), then 16 int32 of 128 · Σ(q − 32) over k 0..15 and 16 over k 16..31 (the
//         excess the + 128 adds, taken off before scaling).
#pragma once

#include <cstdint>

#include "matmul.h"
#include "matrix.h"

namespace olm {

constexpr int64_t kGemmGroupRows = 16;

// Whether `w` can be packed: Q8_0, Q4_0, Q4_K or Q6_K (cols a multiple of 32 by construction).
bool gemm_q8_packable(const matrix& w);
// Bytes of the packed copy of `w`.
int64_t gemm_q8_packed_bytes(const matrix& w);
// Writes rows [g0 * 16, g1 * 16) of `w` (row groups [g0, g1)) in the packed layout into `out`
// (gemm_q8_packed_bytes(w) bytes, 64-byte aligned); groups are independent, so callers may split
// the groups across threads.
void gemm_q8_pack_groups(const matrix& w, int64_t g0, int64_t g1, void* out);

// Q4_0's record per row group is in chunks of 8 blocks instead (the last chunk may hold fewer): a
// chunk is its blocks' 4 vectors each, then their 16 scales each as fp16 (the GGUF d as stored),
// 2304 bytes for 8 blocks, the GGUF blocks' size; a group's record is padded to whole 64-byte
// lines. Float scales per block (320 bytes per 16 × 32) made decode read 11% more than the file.
constexpr int64_t kQ4ChunkBlocks = 8, kQ4BlockBytes = 4 * 64 + kGemmGroupRows * 2, kQ4ChunkBytes = kQ4ChunkBlocks * kQ4BlockBytes;
constexpr int64_t q4_0_group_bytes(int64_t blocks) { return (blocks * kQ4BlockBytes + 63) / 64 * 64; }
// Where block b of a Q4_0 group's record (of `blocks` blocks) has its 4 vectors and its 16 fp16
// scales, from the record's start: for the packer and the kernels.
constexpr int64_t q4_0_vectors_offset(int64_t b) { return b / kQ4ChunkBlocks * kQ4ChunkBytes + b % kQ4ChunkBlocks * 256; }
constexpr int64_t q4_0_scales_offset(int64_t blocks, int64_t b) {
    const int64_t c0 = b / kQ4ChunkBlocks * kQ4ChunkBlocks;
    const int64_t in_chunk = blocks - c0 < kQ4ChunkBlocks ? blocks - c0 : kQ4ChunkBlocks;
    return c0 / kQ4ChunkBlocks * kQ4ChunkBytes + in_chunk * 256 + (b - c0) * 32;
}

// The corr_k quantize_activations needs for this GEMM: the whole block's excess (k · Σq over 16
// lanes that each see all 32 products), 8 for Q4_0 and 128 for Q8_0; 1 for the K types (Q4_K
// scales −Σq by its per-row min; Q6_K reads no correction).
int32_t gemm_q8_corr_k(dtype type);

// y[t, r] for rows [r0, r1) (r0 a multiple of 16) and all x.n tokens, from w.packed; x quantized
// with gemm_q8_corr_k(w.type). y: [x.n, w.rows]. One token (decode) takes a kernel of its own over
// the same layout: each row group streamed once, 4 groups side by side, no cache blocking.
void gemm_q8_rows_avx512_vnni(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y);

}  // namespace olm
