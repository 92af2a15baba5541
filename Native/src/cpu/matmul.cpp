#include "matmul.h"

#include <algorithm>
#include <vector>

#include "thread-pool.h"

namespace olm {

static bool has_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return yes;
}

static bool has_avx512_bf16() {
    static const bool yes = has_avx512() && __builtin_cpu_supports("avx512bf16");
    return yes;
}

const char* cpu_feature_level() { return has_avx512_bf16() ? "avx512bf16" : has_avx512() ? "avx512" : "avx2"; }

static matmul_rows_fn rows_kernel() {
    static const matmul_rows_fn fn = has_avx512() ? matmul_rows_avx512 : matmul_rows_avx2;
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
    // BF16 weights on a CPU with AVX-512 BF16: round the activations to BF16 once, then use
    // dot-product instructions (the precision BF16 checkpoints are trained and served at).
    const bool bf16_dot = has_avx512_bf16() && outs.begin()->w->type == dtype::bf16;
    if (bf16_dot) {
        const int64_t cols = outs.begin()->w->cols;
        thread_local std::vector<uint16_t> x_bf16;
        x_bf16.resize(static_cast<size_t>(n * cols));
        to_bf16_avx512(x, n * cols, x_bf16.data());
        const uint16_t* xb = x_bf16.data();
        pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
            const task& t = tasks[static_cast<size_t>(i)];
            if (t.out->w->type == dtype::bf16) {
                matmul_rows_bf16dot_avx512(xb, n, *t.out->w, t.r0, t.r1, t.out->y);
            } else {
                matmul_rows_avx512(x, n, *t.out->w, t.r0, t.r1, t.out->y);
            }
        });
        return;
    }
    // BF16 weights on AVX2: reorder the activations once so the kernel widens weights cheaply.
    const bool bf16_pairs = !has_avx512() && outs.begin()->w->type == dtype::bf16;
    if (bf16_pairs) {
        const int64_t cols = outs.begin()->w->cols;
        thread_local std::vector<float> x_pairs;
        x_pairs.resize(static_cast<size_t>(n * bf16_pair_columns(cols)));
        to_bf16_pairs(x, n, cols, x_pairs.data());
        const float* xp = x_pairs.data();
        pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
            const task& t = tasks[static_cast<size_t>(i)];
            if (t.out->w->type == dtype::bf16) {
                matmul_rows_bf16_pairs_avx2(xp, x, n, *t.out->w, t.r0, t.r1, t.out->y);
            } else {
                matmul_rows_avx2(x, n, *t.out->w, t.r0, t.r1, t.out->y);
            }
        });
        return;
    }
    const matmul_rows_fn kernel = rows_kernel();
    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const task& t = tasks[static_cast<size_t>(i)];
        kernel(x, n, *t.out->w, t.r0, t.r1, t.out->y);
    });
}

}  // namespace olm
