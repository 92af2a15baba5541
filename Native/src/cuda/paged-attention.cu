// paged-attention.cu: causal attention over a paged BF16 K/V cache for a flat batch of prefill
// chunks (prefix hits included) and decodes. One CTA takes a tile of a sequence's query tokens
// (times the heads of one GQA group: at most 16 rows) and one KV head, streams the keys of its
// split in chunks of 32 through shared memory, and keeps an online softmax per row. With
// n_splits > 1 (few CTAs, long contexts: decode) each split writes its partial (acc, max, sum)
// and a second kernel merges them (split-K, "flash decoding"). The kernels are in
// paged-attention-kernels.cuh (shared with the CPU emulation test).
#include <cuda_bf16.h>

#include <cmath>
#include <string>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/paged-attention-kernels.cuh"

namespace olm {
namespace cuda {

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
