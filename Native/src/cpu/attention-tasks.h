// attention-tasks.h: how the CPU attention kernels split a batch. One task per (sequence, KV head,
// chunk of queries); a task's query heads are the chunk's queries × the heads that share the KV
// head, gathered with the number of keys each sees (causal: its position + 1). Tasks run on the
// pool, or on the calling thread when the batch is too small to pay for a dispatch.
//
// The kernels that use this are compiled with different instruction sets (AVX2, AVX-512). So the
// only code here is a template over each kernel's callback: every file gets its own instantiation,
// and no inline function compiled with AVX-512 can stand in for the AVX2 one at link time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "batch.h"
#include "thread-pool.h"

namespace olm {

constexpr int32_t kMaxTaskHeads = 64;  // queries per chunk × GQA group, at most

// Below about 16K query·key products a dispatch costs more than it saves (a small model's single
// decode token).
constexpr int64_t kAttentionInlineBelow = 16384;

// One task's query heads.
struct attention_task {
    int32_t seq = 0, kv_head = 0;
    const int32_t* blocks = nullptr;  // the sequence's block table
    int32_t n_heads = 0;              // query heads in the task
    const float* q[kMaxTaskHeads];
    float* out[kMaxTaskHeads];
    alignas(64) int32_t n_keys[kMaxTaskHeads];  // keys head i sees; 0 past n_heads
};

// Calls fn(const attention_task&) once per task of `batch`: chunks of up to `chunk` queries
// (chunk × n_heads / n_kv_heads <= kMaxTaskHeads). q, out: [n_tokens, n_heads, head_dim].
template <typename Fn>
void for_each_attention_task(thread_pool& pool, const batch_view& batch, const float* q, float* out, int32_t n_heads,
                             int32_t n_kv_heads, int32_t head_dim, int32_t chunk, int64_t inline_below, Fn&& fn) {
    struct range { int32_t seq, kv_head, q0, q1; };
    std::vector<range> ranges;
    int64_t work = 0;
    for (int32_t s = 0; s < batch.n_seqs; ++s) {
        for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; ++t) work += int64_t(batch.positions[t] + 1) * n_heads;
        for (int32_t h = 0; h < n_kv_heads; ++h)
            for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += chunk)
                ranges.push_back({s, h, t, std::min(t + chunk, batch.query_start[s + 1])});
    }
    const int32_t group = n_heads / n_kv_heads;
    const auto run = [&](int64_t i) {
        const range& r = ranges[static_cast<size_t>(i)];
        attention_task tk;
        tk.seq = r.seq;
        tk.kv_head = r.kv_head;
        tk.blocks = batch.block_indices + batch.block_indptr[r.seq];
        std::fill(tk.n_keys, tk.n_keys + kMaxTaskHeads, 0);
        for (int32_t t = r.q0; t < r.q1; ++t) {
            for (int32_t g = 0; g < group; ++g, ++tk.n_heads) {
                const int64_t row = (int64_t(t) * n_heads + r.kv_head * group + g) * head_dim;
                tk.q[tk.n_heads] = q + row;
                tk.out[tk.n_heads] = out + row;
                tk.n_keys[tk.n_heads] = batch.positions[t] + 1;
            }
        }
        fn(static_cast<const attention_task&>(tk));
    };
    if (work < inline_below) {
        for (int64_t i = 0; i < static_cast<int64_t>(ranges.size()); ++i) run(i);
        return;
    }
    pool.parallel_for(static_cast<int64_t>(ranges.size()), run);
}

}  // namespace olm
