// AVX2 paged attention for the common head sizes (64, 128) and GQA groups up to 8: one task per
// (sequence, KV head, chunk of queries); all query heads of a task (the chunk's queries × the heads
// sharing the KV head) are processed together, so each K/V row is fetched (and widened, for a
// BF16 cache) once per task; the softmax exponentials are vectorised.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "aligned-vector.h"
#include "attention-tasks.h"
#include "avx2-math.h"
#include "batch.h"
#include "ops.h"
#include "thread-pool.h"

namespace olm {

namespace {

constexpr int32_t kQueryChunk = 8;
constexpr int32_t kMaxGroup = 8;

// Per-thread scratch of one task.
struct scratch {
    aligned_vector<float> q;       // [n_heads_in_task][HD], pre-scaled queries
    aligned_vector<float> scores;  // [n_heads_in_task][stride]
    aligned_vector<float> rows;    // [kValueTile][HD]: K or V rows widened to float32 (BF16 caches)
};

constexpr int32_t kValueTile = 64;  // V rows widened at a time; 64 × 128 floats = 32 KiB

// One KV head's rows in a sequence's paged cache.
template <int HD, typename E>
struct kv_head_rows {
    const E* k_cache;
    const E* v_cache;
    const int32_t* blocks;
    int32_t block_size;
    int64_t token_stride;
    int32_t kvh;

    const E* row(const E* cache, int32_t j) const {
        return cache + (int64_t(blocks[j / block_size]) * block_size + j % block_size) * token_stride + int64_t(kvh) * HD;
    }

    // Rows [first, first + count) of `cache` as float32 pointers: the rows themselves (F32) or
    // widened copies in sc.rows (BF16). A task reads HD values of each token's row of all KV
    // heads, a stride the hardware prefetchers followed badly (decode at 2,048 keys read the
    // cache at ~8 GB/s): each row kAheadRows ahead, below `end`, is prefetched.
    void as_f32(const E* cache, int32_t first, int32_t count, int32_t end, const float** out, scratch& sc) const {
        constexpr int32_t kAheadRows = 16;
        constexpr int64_t kRowBytes = int64_t(HD) * sizeof(E);
        for (int32_t i = 0; i < count; ++i) {
            const int32_t j = first + i;
            if (j + kAheadRows < end) {
                const char* ahead = reinterpret_cast<const char*>(row(cache, j + kAheadRows));
                for (int64_t l = 0; l < kRowBytes; l += 64) _mm_prefetch(ahead + l, _MM_HINT_T0);
            }
            const E* row = this->row(cache, j);
            if constexpr (std::is_same_v<E, float>) {
                out[i] = row;
            } else {
                float* dst = sc.rows.data() + size_t(i) * HD;
                for (int v = 0; v < HD / 8; ++v) _mm256_storeu_ps(dst + v * 8, widen_bf16x8(row + v * 8));
                out[i] = dst;
            }
        }
    }
};

// The task's scratch sized for n_qh heads × `stride` scores, and its queries pre-scaled.
template <int HD>
void scale_queries(const float* const* q_heads, int32_t n_qh, int32_t stride, float scale, scratch& sc) {
    sc.q.resize(size_t(n_qh) * HD);
    sc.scores.resize(size_t(n_qh) * size_t(stride));
    sc.rows.resize(size_t(kValueTile) * HD);
    for (int32_t h = 0; h < n_qh; ++h)
        for (int v = 0; v < HD / 8; ++v)
            _mm256_storeu_ps(sc.q.data() + h * HD + v * 8, _mm256_mul_ps(_mm256_loadu_ps(q_heads[h] + v * 8), _mm256_set1_ps(scale)));
}

// Scores of keys [first, first + n) into sc.scores[h · stride + j], eight keys at a time: eight
// independent FMA chains per query head and one horizontal reduction for all eight. With n_keys
// (keys head h sees, counted from `first`), a block past a head's prefix is skipped; entries past
// it inside a block are computed (from a repeated valid row) and ignored after.
template <int HD, typename E>
void key_scores(const kv_head_rows<HD, E>& kv, int32_t first, int32_t n, const int32_t* n_keys, int32_t n_qh, int32_t stride,
                scratch& sc) {
    const float* k[8];
    for (int32_t j = 0; j < n; j += 8) {
        const int32_t count = std::min(8, n - j);
        kv.as_f32(kv.k_cache, first + j, count, first + n, k, sc);
        for (int32_t i = count; i < 8; ++i) k[i] = k[count - 1];
        for (int32_t h = 0; h < n_qh; ++h) {
            if (n_keys != nullptr && n_keys[h] <= j) continue;
            const float* qh = sc.q.data() + h * HD;
            __m256 a[8];
            for (int i = 0; i < 8; ++i) a[i] = _mm256_setzero_ps();
            for (int v = 0; v < HD / 8; ++v) {
                const __m256 qv = _mm256_loadu_ps(qh + v * 8);
                for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k[i] + v * 8), a[i]);
            }
            _mm256_storeu_ps(sc.scores.data() + size_t(h) * stride + j, hsum8(a));
        }
    }
}

// out[h] += sum_j p[h][j] · v_(first + j) over keys [0, n) (with n_keys, [0, n_keys[h])), a tile
// of V rows at a time; each head's HD/8 accumulators stay in registers across the tile.
template <int HD, typename E>
void weighted_values(const kv_head_rows<HD, E>& kv, int32_t first, int32_t n, const int32_t* n_keys, int32_t n_qh, int32_t stride,
                     float* const* out, scratch& sc) {
    constexpr int V = HD / 8;
    const float* vrow[kValueTile];
    for (int32_t t0 = 0; t0 < n; t0 += kValueTile) {
        const int32_t count = std::min(kValueTile, n - t0);
        kv.as_f32(kv.v_cache, first + t0, count, first + n, vrow, sc);
        for (int32_t h = 0; h < n_qh; ++h) {
            const int32_t end = n_keys != nullptr ? std::min(count, n_keys[h] - t0) : count;
            if (end <= 0) continue;
            const float* p = sc.scores.data() + size_t(h) * stride + t0;
            __m256 o[V];
            for (int v = 0; v < V; ++v) o[v] = _mm256_loadu_ps(out[h] + v * 8);
            for (int32_t i = 0; i < end; ++i) {
                const __m256 pj = _mm256_set1_ps(p[i]);
                for (int v = 0; v < V; ++v) o[v] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vrow[i] + v * 8), o[v]);
            }
            for (int v = 0; v < V; ++v) _mm256_storeu_ps(out[h] + v * 8, o[v]);
        }
    }
}

// All query heads of one task (the queries of a prefill chunk × the heads sharing a KV head)
// against their causal prefixes of one sequence's cache. Each block of K rows and each tile of
// V rows is read (and, for BF16, widened) once and used by every query head while it is in L1.
// n_keys[h]: keys query head h sees (its position + 1).
template <int HD, typename E>
void attend(const float* const* q_heads, const int32_t* n_keys, int32_t n_qh, const kv_head_rows<HD, E>& kv, float scale,
            float* const* out_heads, scratch& sc) {
    const int32_t max_keys = *std::max_element(n_keys, n_keys + n_qh);
    const int32_t stride = (max_keys + 7) / 8 * 8;
    scale_queries<HD>(q_heads, n_qh, stride, scale, sc);
    key_scores(kv, 0, max_keys, n_keys, n_qh, stride, sc);
    for (int32_t h = 0; h < n_qh; ++h) softmax(sc.scores.data() + size_t(h) * stride, n_keys[h]);
    for (int32_t h = 0; h < n_qh; ++h) std::fill(out_heads[h], out_heads[h] + HD, 0.0f);
    weighted_values(kv, 0, max_keys, n_keys, n_qh, stride, out_heads, sc);
}

// One query's group of heads (the heads sharing KV head kvh) against keys [j0, j1) of its
// sequence, for a decode step split by key range across the pool: writes each head's
// unnormalised output o[h] = sum_j exp(s_j - m_h) · v_j, its max score m[h] and its sum of
// exponentials l[h]; combine_partials merges the ranges into the softmax over all keys.
template <int HD, typename E>
void attend_range(const float* const* q_heads, int32_t n_qh, int32_t j0, int32_t j1, const kv_head_rows<HD, E>& kv, float scale,
                  float* o, float* m, float* l, scratch& sc) {
    const int32_t n = j1 - j0, stride = (n + 7) / 8 * 8;
    scale_queries<HD>(q_heads, n_qh, stride, scale, sc);
    key_scores(kv, j0, n, nullptr, n_qh, stride, sc);
    float* out[kMaxGroup];
    for (int32_t h = 0; h < n_qh; ++h) {
        // exponentials against the range's own max, left unnormalised
        l[h] = exp_against_max(sc.scores.data() + size_t(h) * stride, n, &m[h]);
        out[h] = o + size_t(h) * HD;
        std::fill(out[h], out[h] + HD, 0.0f);
    }
    weighted_values(kv, j0, n, nullptr, n_qh, stride, out, sc);
}

// The key ranges' partial results of one head merged: out = sum_c e^(m_c - M) o_c / sum_c e^(m_c - M) l_c.
void combine_partials(const float* const* o, const float* m, const float* l, int32_t n_ranges, int32_t head_dim,
                      float* out) {
    float mx = -INFINITY;
    for (int32_t c = 0; c < n_ranges; ++c) mx = std::max(mx, m[c]);
    float w[64], total = 0.0f;
    for (int32_t c = 0; c < n_ranges; ++c) {
        w[c] = std::exp(m[c] - mx);
        total += w[c] * l[c];
    }
    const float inv = 1.0f / total;
    for (int32_t d = 0; d < head_dim; ++d) {
        float acc = 0.0f;
        for (int32_t c = 0; c < n_ranges; ++c) acc += w[c] * o[c][d];
        out[d] = acc * inv;
    }
}

}  // namespace

bool paged_attention_avx2_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    return (head_dim == 64 || head_dim == 128) && n_heads / n_kv_heads <= kMaxGroup;
}

namespace {

// A decode batch (one query per sequence) whose (sequence, KV head) tasks cannot keep the pool
// busy: a small model's step (smollm2: 3 KV heads, 9 × 512 query·key products) ran on the calling
// thread alone, or its 3 tasks would split 2 : 1 over two threads. Each task's keys are split
// into ranges of at least split_min_keys (multiples of 8) until there are about two tasks per
// thread; the ranges' partial softmaxes are merged on the calling thread. Returns false (nothing
// done) where the batch is not a decode batch or no task would be split.
bool paged_attention_avx2_decode_split(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                                       const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads,
                                       int32_t head_dim, int32_t block_size, dtype kv_type, int64_t inline_below,
                                       int32_t split_min_keys) {
    if (pool.size() < 2 || batch.n_tokens != batch.n_seqs || split_min_keys < 1) return false;
    for (int32_t s = 0; s < batch.n_seqs; ++s)
        if (batch.query_start[s + 1] - batch.query_start[s] != 1) return false;
    const int64_t pairs = int64_t(batch.n_seqs) * n_kv_heads;
    int64_t work = 0;
    for (int32_t s = 0; s < batch.n_seqs; ++s) work += int64_t(batch.positions[batch.query_start[s]] + 1) * n_heads;
    // Enough (sequence, KV head) tasks for two per thread and enough work for a dispatch: the
    // unsplit path balances them.
    if (work >= inline_below && pairs >= 2 * int64_t(pool.size())) return false;
    const int64_t want_ranges = (2 * int64_t(pool.size()) + pairs - 1) / pairs;
    constexpr int32_t kMaxRanges = 64;  // combine_partials' weights
    struct task { int32_t seq, kv_head, j0, j1, first_range, n_ranges; };
    std::vector<task> tasks;
    bool any_split = false;
    for (int32_t s = 0; s < batch.n_seqs; ++s) {
        const int32_t n_keys = batch.positions[batch.query_start[s]] + 1;
        const int32_t ranges = int32_t(std::clamp<int64_t>(std::min<int64_t>(n_keys / split_min_keys, want_ranges), 1, kMaxRanges));
        any_split |= ranges > 1;
        // Range boundaries on multiples of 8 keys (the score loop's step).
        const int32_t per = (n_keys / ranges + 7) / 8 * 8;
        for (int32_t h = 0; h < n_kv_heads; ++h) {
            const int32_t first = static_cast<int32_t>(tasks.size());
            int32_t count = 0;
            for (int32_t j0 = 0; j0 < n_keys; j0 += per) ++count;
            for (int32_t j0 = 0; j0 < n_keys; j0 += per) tasks.push_back({s, h, j0, std::min(n_keys, j0 + per), first, count});
        }
    }
    if (!any_split) return false;
    const int32_t group = n_heads / n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t token_stride = int64_t(n_kv_heads) * head_dim;
    // Per task: group × head_dim unnormalised outputs, then group maxima and group sums.
    const size_t task_floats = size_t(group) * size_t(head_dim + 2);
    thread_local aligned_vector<float> partials;
    partials.resize(tasks.size() * task_floats);
    float* const part = partials.data();  // the pointer, not the thread_local: a worker would see its own

    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const task& tk = tasks[static_cast<size_t>(i)];
        const int32_t* blocks = batch.block_indices + batch.block_indptr[tk.seq];
        const int32_t t = batch.query_start[tk.seq];
        thread_local scratch sc;
        const float* q_heads[kMaxGroup];
        for (int32_t g = 0; g < group; ++g) q_heads[g] = q + (int64_t(t) * n_heads + tk.kv_head * group + g) * head_dim;
        float* o = part + size_t(i) * task_floats;
        float* m = o + size_t(group) * head_dim;
        float* l = m + group;
        const auto with_head_dim = [&](const auto* k, const auto* v) {
            using E = std::remove_const_t<std::remove_pointer_t<decltype(k)>>;
            if (head_dim == 64) {
                attend_range<64, E>(q_heads, group, tk.j0, tk.j1, {k, v, blocks, block_size, token_stride, tk.kv_head}, scale, o, m, l, sc);
            } else {
                attend_range<128, E>(q_heads, group, tk.j0, tk.j1, {k, v, blocks, block_size, token_stride, tk.kv_head}, scale, o, m, l, sc);
            }
        };
        if (kv_type == dtype::bf16) {
            with_head_dim(static_cast<const uint16_t*>(k_cache), static_cast<const uint16_t*>(v_cache));
        } else {
            with_head_dim(static_cast<const float*>(k_cache), static_cast<const float*>(v_cache));
        }
    });

    for (size_t i = 0; i < tasks.size();) {
        const task& tk = tasks[i];
        const int32_t t = batch.query_start[tk.seq];
        for (int32_t g = 0; g < group; ++g) {
            const float* o[kMaxRanges];
            float m[kMaxRanges], l[kMaxRanges];
            for (int32_t c = 0; c < tk.n_ranges; ++c) {
                const float* base = part + (i + size_t(c)) * task_floats;
                o[c] = base + size_t(g) * head_dim;
                m[c] = base[size_t(group) * head_dim + g];
                l[c] = base[size_t(group) * head_dim + group + g];
            }
            combine_partials(o, m, l, tk.n_ranges, head_dim, out + (int64_t(t) * n_heads + tk.kv_head * group + g) * head_dim);
        }
        i += size_t(tk.n_ranges);
    }
    return true;
}

}  // namespace

void paged_attention_avx2(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                          const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                          int32_t block_size, dtype kv_type, int64_t inline_below, int32_t split_min_keys) {
    if (paged_attention_avx2_decode_split(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size,
                                          kv_type, inline_below, split_min_keys)) {
        return;
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t token_stride = int64_t(n_kv_heads) * head_dim;
    for_each_attention_task(pool, batch, q, out, n_heads, n_kv_heads, head_dim, kQueryChunk, inline_below, [&](const attention_task& tk) {
        thread_local scratch sc;
        const auto with_head_dim = [&](const auto* k, const auto* v) {
            using E = std::remove_const_t<std::remove_pointer_t<decltype(k)>>;
            if (head_dim == 64) {
                attend<64, E>(tk.q, tk.n_keys, tk.n_heads, {k, v, tk.blocks, block_size, token_stride, tk.kv_head}, scale, tk.out, sc);
            } else {
                attend<128, E>(tk.q, tk.n_keys, tk.n_heads, {k, v, tk.blocks, block_size, token_stride, tk.kv_head}, scale, tk.out, sc);
            }
        };
        if (kv_type == dtype::bf16) {
            with_head_dim(static_cast<const uint16_t*>(k_cache), static_cast<const uint16_t*>(v_cache));
        } else {
            with_head_dim(static_cast<const float*>(k_cache), static_cast<const float*>(v_cache));
        }
    });
}

}  // namespace olm
