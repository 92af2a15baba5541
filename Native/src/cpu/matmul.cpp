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
    const auto run = [&](const auto& bf16_rows) {
        pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
            const task& t = tasks[static_cast<size_t>(i)];
            if (t.out->w->type == dtype::bf16) {
                bf16_rows(*t.out->w, t.r0, t.r1, t.out->y);
            } else {
                plain(x, n, *t.out->w, t.r0, t.r1, t.out->y);
            }
        });
    };
    const bool bf16 = outs.begin()->w->type == dtype::bf16;
    const int64_t cols = outs.begin()->w->cols;
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
