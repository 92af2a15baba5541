// paged-attention-kernels.cuh: the kernels of paged-attention.cu (its launchers stay there). In
// a header of their own so that tests/cuda/test-cuda-emulated.cpp can compile the very same
// kernel bodies for the CPU, with CUDA's thread model emulated, where no GPU is available.
#pragma once

#include "cuda/reduce.cuh"

namespace olm {
namespace cuda {

namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kChunk = 32;                        // keys per shared-memory chunk: one per lane
constexpr int kMaxRows = 16;                      // (token, head) rows per CTA
constexpr int kRowsPerWarp = kMaxRows / kWarps;

}  // namespace

// kernels

// grid: (n_tiles, n_kv_heads, n_splits), block: kThreads.
// q: token t at q + t * q_row_stride, [n_heads, D] f32; k_cache, v_cache: [n_blocks, block_size,
// n_kv_heads, D] bf16; out: [n_tokens, n_heads, D] bf16 (n_splits == 1); workspace:
// [n_splits, n_tokens, n_heads, D + 2] f32 (acc, then max and sum) when n_splits > 1;
// query_start, block_indptr: [n_seqs + 1]; context_lens: [n_seqs]; tiles: [n_tiles, 3].
template <int D>
__global__ void __launch_bounds__(kThreads)
paged_attention_kernel(const float* q, int64_t q_row_stride, const __nv_bfloat16* k_cache,
                       const __nv_bfloat16* v_cache, __nv_bfloat16* out, float* workspace,
                       const int32_t* query_start, const int32_t* context_lens, const int32_t* block_indptr,
                       const int32_t* block_indices, const int32_t* tiles, int32_t n_tokens, int32_t n_heads,
                       int32_t n_kv_heads, int32_t block_size, int32_t n_splits, float scale) {
    constexpr int kPerLane = D / 32;
    constexpr int kVec = 8;  // bf16 per 16-byte load
    __shared__ float q_s[kMaxRows][D];
    __shared__ float k_s[kChunk][D + 1];  // +1: lane j reads row j, conflict-free
    __shared__ float v_s[kChunk][D];

    const int32_t tile = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z;
    const int32_t seq = tiles[3 * tile], first = tiles[3 * tile + 1], count = tiles[3 * tile + 2];
    const int32_t group = n_heads / n_kv_heads;
    const int32_t n_rows = count * group;
    const int32_t query_end = query_start[seq + 1];
    const int32_t context_len = context_lens[seq];
    // Tokens of a sequence are its last positions: token t sits at context_len - (query_end - t).
    const int32_t tile_keys = context_len - (query_end - (first + count - 1)) + 1;
    const int32_t n_chunks = (tile_keys + kChunk - 1) / kChunk;
    const int32_t chunks_per_split = (n_chunks + n_splits - 1) / n_splits;
    const int32_t key_begin = split * chunks_per_split * kChunk;
    const int32_t key_end = min(tile_keys, key_begin + chunks_per_split * kChunk);
    const int64_t slot_elems = int64_t(n_kv_heads) * D;
    const int32_t* blocks = block_indices + block_indptr[seq];

    for (int i = threadIdx.x; i < kMaxRows * D; i += kThreads) {
        const int r = i / D, d = i % D;
        float val = 0.0f;
        if (r < n_rows) val = q[int64_t(first + r / group) * q_row_stride + int64_t(kv_head * group + r % group) * D + d];
        q_s[r][d] = val;
    }

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float acc[kRowsPerWarp][kPerLane];
    float row_max[kRowsPerWarp], row_sum[kRowsPerWarp];
    int32_t row_pos[kRowsPerWarp];
#pragma unroll
    for (int k = 0; k < kRowsPerWarp; ++k) {
        const int r = warp + k * kWarps;
        row_pos[k] = r < n_rows ? context_len - (query_end - (first + r / group)) : -1;
        row_max[k] = -INFINITY;
        row_sum[k] = 0.0f;
#pragma unroll
        for (int i = 0; i < kPerLane; ++i) acc[k][i] = 0.0f;
    }

    for (int32_t chunk = key_begin; chunk < key_end; chunk += kChunk) {
        __syncthreads();  // q_s written (first chunk); the previous chunk consumed (later ones)
        for (int i = threadIdx.x; i < kChunk * (D / kVec); i += kThreads) {
            const int j = i / (D / kVec), d0 = (i % (D / kVec)) * kVec;
            const int32_t key = chunk + j;
            float kf[kVec], vf[kVec];
            if (key < key_end) {
                const int64_t slot = int64_t(blocks[key / block_size]) * block_size + key % block_size;
                const int64_t offset = slot * slot_elems + int64_t(kv_head) * D + d0;
                const uint4 k_raw = *reinterpret_cast<const uint4*>(k_cache + offset);
                const uint4 v_raw = *reinterpret_cast<const uint4*>(v_cache + offset);
                const __nv_bfloat162* k2 = reinterpret_cast<const __nv_bfloat162*>(&k_raw);
                const __nv_bfloat162* v2 = reinterpret_cast<const __nv_bfloat162*>(&v_raw);
#pragma unroll
                for (int e = 0; e < kVec / 2; ++e) {
                    const float2 kk = __bfloat1622float2(k2[e]), vv = __bfloat1622float2(v2[e]);
                    kf[2 * e] = kk.x;
                    kf[2 * e + 1] = kk.y;
                    vf[2 * e] = vv.x;
                    vf[2 * e + 1] = vv.y;
                }
            } else {
#pragma unroll
                for (int e = 0; e < kVec; ++e) kf[e] = vf[e] = 0.0f;
            }
#pragma unroll
            for (int e = 0; e < kVec; ++e) {
                k_s[j][d0 + e] = kf[e];
                v_s[j][d0 + e] = vf[e];
            }
        }
        __syncthreads();

#pragma unroll
        for (int k = 0; k < kRowsPerWarp; ++k) {
            const int r = warp + k * kWarps;
            if (r < n_rows) {  // the same for the whole warp
                const int32_t key = chunk + lane;
                float score = -INFINITY;
                if (key < key_end && key <= row_pos[k]) {
                    float s = 0.0f;
#pragma unroll 16
                    for (int d = 0; d < D; ++d) s += q_s[r][d] * k_s[lane][d];
                    score = s * scale;
                }
                const float new_max = fmaxf(row_max[k], warp_max(score));
                if (new_max != -INFINITY) {  // else every key of the chunk is masked for this row
                    const float p = expf(score - new_max);           // 0 for masked keys
                    const float correction = expf(row_max[k] - new_max);  // 0 on the first keys
                    row_sum[k] = row_sum[k] * correction + warp_sum(p);
#pragma unroll
                    for (int i = 0; i < kPerLane; ++i) acc[k][i] *= correction;
                    for (int j = 0; j < kChunk; ++j) {
                        const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
                        for (int i = 0; i < kPerLane; ++i) acc[k][i] += pj * v_s[j][lane + 32 * i];
                    }
                    row_max[k] = new_max;
                }
            }
        }
    }

#pragma unroll
    for (int k = 0; k < kRowsPerWarp; ++k) {
        const int r = warp + k * kWarps;
        if (r < n_rows) {
            const int64_t t = first + r / group;
            const int64_t h = kv_head * group + r % group;
            if (n_splits == 1) {
                const float inv = row_sum[k] > 0.0f ? 1.0f / row_sum[k] : 0.0f;
#pragma unroll
                for (int i = 0; i < kPerLane; ++i) {
                    out[(t * n_heads + h) * D + lane + 32 * i] = __float2bfloat16(acc[k][i] * inv);
                }
            } else {
                float* w = workspace + ((int64_t(split) * n_tokens + t) * n_heads + h) * (D + 2);
#pragma unroll
                for (int i = 0; i < kPerLane; ++i) w[lane + 32 * i] = acc[k][i];
                if (lane == 0) {
                    w[D] = row_max[k];
                    w[D + 1] = row_sum[k];
                }
            }
        }
    }
}

// grid: (n_tokens, n_heads), block: 64. workspace: [n_splits, n_tokens, n_heads, D + 2];
// out: [n_tokens, n_heads, D] bf16.
template <int D>
__global__ void merge_splits_kernel(const float* workspace, __nv_bfloat16* out, int32_t n_tokens, int32_t n_heads,
                                    int32_t n_splits) {
    const int64_t t = blockIdx.x, h = blockIdx.y;
    const int64_t split_stride = int64_t(n_tokens) * n_heads * (D + 2);
    const float* w0 = workspace + (t * n_heads + h) * (D + 2);
    float global_max = -INFINITY;
    for (int s = 0; s < n_splits; ++s) global_max = fmaxf(global_max, w0[s * split_stride + D]);
    float total = 0.0f;
    for (int s = 0; s < n_splits; ++s) {
        const float* w = w0 + s * split_stride;
        if (w[D] != -INFINITY) total += w[D + 1] * expf(w[D] - global_max);
    }
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float v = 0.0f;
        for (int s = 0; s < n_splits; ++s) {
            const float* w = w0 + s * split_stride;
            if (w[D] != -INFINITY) v += w[d] * expf(w[D] - global_max);
        }
        out[(t * n_heads + h) * D + d] = __float2bfloat16(v * inv);
    }
}

}  // namespace cuda
}  // namespace olm
