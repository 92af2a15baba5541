#include "matmul.h"

#include <algorithm>
#include <vector>

#include "cpu-features.h"
#include "thread-pool.h"

namespace olm {

static matmul_rows_fn rows_kernel() {
    static const matmul_rows_fn fn = cpu_has_avx512() ? matmul_rows_avx512 : matmul_rows_avx2;
    return fn;
}

void matmul(thread_pool& pool, const float* x, int64_t n, std::initializer_list<matmul_out> outs) {
    struct task { const matmul_out* out; int64_t r0, r1; };
    int64_t total_rows = 0;
    for (const auto& o : outs) total_rows += o.w->rows;
    // ~8 tasks per thread balances uneven finishing; rows per task stay a multiple of 4
    // (the kernels' row block) and at least 16 so that each task amortises its dispatch.
    int64_t rows_per_task = total_rows / (int64_t(pool.size()) * 8);
    rows_per_task = std::max<int64_t>(16, (rows_per_task + 3) / 4 * 4);
    std::vector<task> tasks;
    for (const auto& o : outs) {
        for (int64_t r = 0; r < o.w->rows; r += rows_per_task) tasks.push_back({&o, r, std::min(o.w->rows, r + rows_per_task)});
    }
    // Every task: BF16 matrices through `bf16_rows(w, r0, r1, y)`, the others through the plain
    // kernel of this CPU.
    const matmul_rows_fn plain = rows_kernel();
    const int64_t cols = outs.begin()->w->cols;
    // Quantized weights: the activations quantized once per correction their kernel needs (at
    // most two: Q8_0 and Q4_0 matrices in one call), tokens split across the pool.
    const bool vnni = cpu_has_avx512_vnni();
    const matmul_rows_q8_fn q8_rows = vnni ? matmul_rows_q8_avx512_vnni : matmul_rows_q8_avx2;
    thread_local std::vector<uint8_t> q8_buffers[2];
    q8_activations xq[2];
    int32_t corr_ks[2] = {-1, -1};
    const auto corr_k_of = [&](dtype type) { return vnni ? q8_corr_k_avx512_vnni(type) : q8_corr_k_avx2(type); };
    for (const auto& o : outs) {
        if (!dtype_is_quantized(o.w->type)) continue;
        const int32_t k = corr_k_of(o.w->type);
        if (corr_ks[0] == k || corr_ks[1] == k) continue;
        const int slot = corr_ks[0] < 0 ? 0 : 1;
        corr_ks[slot] = k;
        std::vector<uint8_t>& buf = q8_buffers[slot];
        buf.resize(static_cast<size_t>(q8_activation_bytes(n, cols) + 64));
        void* aligned = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64;
        const int64_t n_parts = std::min<int64_t>(n, int64_t(pool.size()));
        pool.parallel_for(n_parts, [&](int64_t i) {
            quantize_activations(x, n, cols, k, aligned, n * i / n_parts, n * (i + 1) / n_parts);
        });
        xq[slot] = quantize_activations(x, n, cols, k, aligned, 0, 0);  // the view only
    }
    const auto run = [&](const auto& bf16_rows) {
        pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
            const task& t = tasks[static_cast<size_t>(i)];
            if (dtype_is_quantized(t.out->w->type)) {
                q8_rows(xq[corr_ks[0] == corr_k_of(t.out->w->type) ? 0 : 1], *t.out->w, t.r0, t.r1, t.out->y);
            } else if (t.out->w->type == dtype::bf16) {
                bf16_rows(*t.out->w, t.r0, t.r1, t.out->y);
            } else {
                plain(x, n, *t.out->w, t.r0, t.r1, t.out->y);
            }
        });
    };
    const bool bf16 = outs.begin()->w->type == dtype::bf16;
    if (bf16 && cpu_has_avx512_bf16()) {
        // AVX-512 BF16: round the activations to BF16 once, then use dot-product instructions
        // (the precision BF16 checkpoints are trained and served at).
        thread_local std::vector<uint16_t> x_bf16;
        x_bf16.resize(static_cast<size_t>(n * cols));
        to_bf16_avx512(x, n * cols, x_bf16.data());
        // The pointer, not the thread_local: a worker naming x_bf16 would see its own (empty) one.
        const uint16_t* xb = x_bf16.data();
        run([&](const matrix& w, int64_t r0, int64_t r1, float* y) { matmul_rows_bf16dot_avx512(xb, n, w, r0, r1, y); });
    } else if (bf16 && !cpu_has_avx512()) {
        // AVX2: reorder the activations once so the kernel widens weights cheaply.
        thread_local std::vector<float> x_pairs;
        x_pairs.resize(static_cast<size_t>(n * bf16_pair_columns(cols)));
        to_bf16_pairs(x, n, cols, x_pairs.data());
        const float* xp = x_pairs.data();  // as above
        run([&](const matrix& w, int64_t r0, int64_t r1, float* y) { matmul_rows_bf16_pairs_avx2(xp, x, n, w, r0, r1, y); });
    } else {
        run([&](const matrix& w, int64_t r0, int64_t r1, float* y) { plain(x, n, w, r0, r1, y); });
    }
}

}  // namespace olm
