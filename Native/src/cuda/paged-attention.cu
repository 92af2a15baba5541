// paged-attention.cu: causal attention over a paged BF16 K/V cache for a flat batch of prefill
// chunks (prefix hits included) and decodes. One CTA takes a tile of a sequence's query tokens
// (times the heads of one GQA group: at most 16 rows) and one KV head, streams the keys of its
// split in chunks of 32 through shared memory, and keeps an online softmax per row. With
// n_splits > 1 (few CTAs, long contexts: decode) each split writes its partial (acc, max, sum)
// and a second kernel merges them (split-K, "flash decoding").
#include <cuda_bf16.h>

#include <cmath>
#include <string>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
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

// launchers

int32_t attention_tile_tokens(int32_t n_heads, int32_t n_kv_heads) {
    const int32_t group = n_heads / n_kv_heads;
    return kMaxRows / group;
}

int32_t attention_tiles(const int32_t* query_start, int32_t n_seqs, int32_t tile_tokens, int32_t* tiles) {
    int32_t n = 0;
    for (int32_t s = 0; s < n_seqs; ++s) {
        for (int32_t t = query_start[s]; t < query_start[s + 1]; t += tile_tokens) {
            tiles[3 * n] = s;
            tiles[3 * n + 1] = t;
            tiles[3 * n + 2] = std::min(tile_tokens, query_start[s + 1] - t);
            ++n;
        }
    }
    return n;
}

bool paged_attention_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim, int32_t block_size) {
    if (head_dim != 64 && head_dim != 128) return false;
    if (n_kv_heads < 1 || n_heads % n_kv_heads != 0 || n_heads / n_kv_heads > 8) return false;
    return block_size == 8 || block_size == 16 || block_size == 32 || block_size == 64 || block_size == 128;
}

int64_t paged_attention_workspace_floats(int32_t n_tokens, int32_t n_heads, int32_t head_dim, int32_t n_splits) {
    return int64_t(n_splits) * n_tokens * n_heads * (head_dim + 2);
}

int32_t paged_attention_splits(const attention_batch& b, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                               int32_t n_sms, int64_t workspace_floats) {
    constexpr int32_t kMinKeysPerSplit = 256, kMaxSplits = 32;
    const int64_t ctas = int64_t(b.n_tiles) * n_kv_heads;
    if (ctas == 0 || ctas >= n_sms || b.max_context_len <= kMinKeysPerSplit) return 1;
    int64_t splits = std::min<int64_t>((2 * int64_t(n_sms) + ctas - 1) / ctas,
                                       (b.max_context_len + kMinKeysPerSplit - 1) / kMinKeysPerSplit);
    splits = std::min<int64_t>(splits, kMaxSplits);
    while (splits > 1 && paged_attention_workspace_floats(b.n_tokens, n_heads, head_dim, int32_t(splits)) > workspace_floats) {
        --splits;
    }
    return int32_t(std::max<int64_t>(splits, 1));
}

void launch_paged_attention(const float* q, int64_t q_row_stride, const uint16_t* k_cache, const uint16_t* v_cache,
                            uint16_t* out, const attention_batch& b, int32_t n_heads, int32_t n_kv_heads,
                            int32_t head_dim, int32_t block_size, int32_t n_splits, float* workspace,
                            cudaStream_t stream) {
    if (!paged_attention_supports(n_heads, n_kv_heads, head_dim, block_size)) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                    "CUDA paged attention supports head_dim 64 or 128, GQA groups up to 8 and block sizes 8..128 "
                    "(powers of two); got head_dim " + std::to_string(head_dim) + ", " + std::to_string(n_heads) +
                        " heads over " + std::to_string(n_kv_heads) + " KV heads, block size " + std::to_string(block_size));
    }
    if (n_splits < 1 || (n_splits > 1 && workspace == nullptr)) {
        throw error(ORLEANSLLM_ERR_INTERNAL, "paged attention: n_splits > 1 needs a workspace");
    }
    if (b.n_tiles == 0) return;
    const float scale = 1.0f / std::sqrt(float(head_dim));
    const dim3 grid(unsigned(b.n_tiles), unsigned(n_kv_heads), unsigned(n_splits));
    const auto* kc = reinterpret_cast<const __nv_bfloat16*>(k_cache);
    const auto* vc = reinterpret_cast<const __nv_bfloat16*>(v_cache);
    auto* o = reinterpret_cast<__nv_bfloat16*>(out);
    if (head_dim == 64) {
        paged_attention_kernel<64><<<grid, kThreads, 0, stream>>>(q, q_row_stride, kc, vc, o, workspace, b.query_start,
                                                                  b.context_lens, b.block_indptr, b.block_indices, b.tiles,
                                                                  b.n_tokens, n_heads, n_kv_heads, block_size, n_splits, scale);
    } else {
        paged_attention_kernel<128><<<grid, kThreads, 0, stream>>>(q, q_row_stride, kc, vc, o, workspace, b.query_start,
                                                                   b.context_lens, b.block_indptr, b.block_indices, b.tiles,
                                                                   b.n_tokens, n_heads, n_kv_heads, block_size, n_splits, scale);
    }
    check_launch("paged_attention_kernel");
    if (n_splits == 1) return;
    const dim3 merge_grid(unsigned(b.n_tokens), unsigned(n_heads));
    if (head_dim == 64) {
        merge_splits_kernel<64><<<merge_grid, 64, 0, stream>>>(workspace, o, b.n_tokens, n_heads, n_splits);
    } else {
        merge_splits_kernel<128><<<merge_grid, 64, 0, stream>>>(workspace, o, b.n_tokens, n_heads, n_splits);
    }
    check_launch("merge_splits_kernel");
}

}  // namespace cuda
}  // namespace olm
