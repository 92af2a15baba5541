#include "matmul.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "aligned-vector.h"
#include "cpu-features.h"
#include "gemm-q8.h"
#include "k-decode.h"
#include "quant.h"
#include "thread-pool.h"

namespace olm {

namespace {

matmul_rows_fn rows_kernel() {
    static const matmul_rows_fn fn = cpu_has_avx512() ? matmul_rows_avx512 : matmul_rows_avx2;
    return fn;
}

struct task {
    const matmul_out* out;
    int64_t r0, r1;
};

// ~8 tasks per thread balances uneven finishing; rows per task stay a multiple of 16 (the kernels'
// row blocks: 4, and the GEMM's row group) so that each task amortises its dispatch.
std::vector<task> split_rows(const thread_pool& pool, std::initializer_list<matmul_out> outs) {
    int64_t total_rows = 0;
    for (const auto& o : outs) total_rows += o.w->rows;
    int64_t rows_per_task = total_rows / (int64_t(pool.size()) * 8);
    rows_per_task = std::max<int64_t>(16, (rows_per_task + 15) / 16 * 16);
    std::vector<task> tasks;
    for (const auto& o : outs) {
        for (int64_t r = 0; r < o.w->rows; r += rows_per_task) tasks.push_back({&o, r, std::min(o.w->rows, r + rows_per_task)});
    }
    return tasks;
}

// One token (decode, bandwidth-bound): guided sizes instead, each task about 1 / (2 · threads) of
// the rows not yet handed out (a multiple of 16, at least 16). Tasks are claimed in order, so the
// first ones stream long runs and the last ones are small enough that the threads finish together.
std::vector<task> split_rows_guided(const thread_pool& pool, std::initializer_list<matmul_out> outs) {
    int64_t remaining = 0;
    for (const auto& o : outs) remaining += o.w->rows;
    const int64_t parts = 2 * int64_t(pool.size());
    std::vector<task> tasks;
    for (const auto& o : outs) {
        for (int64_t r = 0; r < o.w->rows;) {
            const int64_t rows = std::min(o.w->rows - r, std::max<int64_t>(16, (remaining / parts + 15) / 16 * 16));
            tasks.push_back({&o, r, r + rows});
            r += rows;
            remaining -= rows;
        }
    }
    return tasks;
}

// x rounded to BF16 once, in a buffer of the calling thread (the pointer is what workers get).
const uint16_t* bf16_activations(const float* x, int64_t n, int64_t cols) {
    thread_local aligned_vector<uint16_t> x_bf16;
    x_bf16.resize(static_cast<size_t>(n * cols));
    to_bf16_avx512(x, n * cols, x_bf16.data());
    return x_bf16.data();
}

// The activations quantized for the Q8 kernels, once per correction the matrices in `outs` need
// (at most three: Q8_0, Q4_0 and Q5_0 on VNNI; Q8_0, Q4_0 and the K types in the GEMM), tokens
// split across the pool: for the row kernels, or for the int8 GEMM (`gemm`); `serves` picks the
// matrices this instance is for.
class q8_inputs {
public:
    template <typename Serves>
    q8_inputs(thread_pool& pool, const float* x, int64_t n, int64_t cols, std::initializer_list<matmul_out> outs, bool gemm,
              Serves serves)
        : vnni_(cpu_has_avx512_vnni()), gemm_(gemm) {
        thread_local aligned_vector<uint8_t> buffers[2][kSlots];
        for (const auto& o : outs) {
            if (!serves(*o.w)) continue;
            const int32_t k = corr_k(o.w->type);
            if (slot_of(k) >= 0) continue;
            const int slot = used_++;
            corr_k_[slot] = k;
            aligned_vector<uint8_t>& buf = buffers[gemm ? 1 : 0][slot];
            buf.resize(static_cast<size_t>(q8_activation_bytes(n, cols)));
            void* aligned = buf.data();
            const int64_t parts = std::min<int64_t>(n, int64_t(pool.size()));
            pool.parallel_for(parts, [&](int64_t i) { quantize_activations(x, n, cols, k, aligned, n * i / parts, n * (i + 1) / parts); });
            views_[slot] = quantize_activations(x, n, cols, k, aligned, 0, 0);  // the view only
        }
    }
    void rows(const matrix& w, int64_t r0, int64_t r1, float* y) const {
        const q8_activations& x = views_[slot_of(corr_k(w.type))];
        if (gemm_) {
            gemm_q8_rows_avx512_vnni(x, w, r0, r1, y);
        } else {
            (vnni_ ? matmul_rows_q8_avx512_vnni : matmul_rows_q8_avx2)(x, w, r0, r1, y);
        }
    }

private:
    static constexpr int kSlots = 3;
    int32_t corr_k(dtype t) const { return gemm_ ? gemm_q8_corr_k(t) : vnni_ ? q8_corr_k_avx512_vnni(t) : q8_corr_k_avx2(t); }
    int slot_of(int32_t k) const {
        for (int i = 0; i < used_; ++i)
            if (corr_k_[i] == k) return i;
        return -1;
    }
    bool vnni_, gemm_;
    int used_ = 0;
    int32_t corr_k_[kSlots] = {};
    q8_activations views_[kSlots];
};

// Rows [r0, r1) of quantized `w` widened to BF16 in a buffer of the worker, then the BF16
// dot-product kernel against x_bf16; its output [n, r1 - r0] is copied into y [n, w.rows].
void quantized_rows_via_bf16(const uint16_t* x_bf16, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    thread_local std::vector<uint16_t> w_bf16;
    thread_local std::vector<float> y_tile;
    const int64_t tile_rows = r1 - r0;
    w_bf16.resize(static_cast<size_t>(tile_rows * w.cols));
    y_tile.resize(static_cast<size_t>(n * tile_rows));
    dequantize_rows_bf16_avx512(w, r0, r1, w_bf16.data());
    const matrix tile{dtype::bf16, w_bf16.data(), tile_rows, w.cols};
    matmul_rows_bf16dot_avx512(x_bf16, n, tile, 0, tile_rows, y_tile.data());
    for (int64_t t = 0; t < n; ++t) {
        std::memcpy(y + t * w.rows + r0, y_tile.data() + t * tile_rows, static_cast<size_t>(tile_rows) * sizeof(float));
    }
}

// As above without AVX-512 BF16: rows widened to float, then the float kernel of this CPU.
void quantized_rows_via_f32(const float* x, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    thread_local std::vector<float> w_f32, y_tile;
    const int64_t tile_rows = r1 - r0;
    w_f32.resize(static_cast<size_t>(tile_rows * w.cols));
    y_tile.resize(static_cast<size_t>(n * tile_rows));
    for (int64_t r = r0; r < r1; ++r) {
        dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + r * w.row_bytes(), w_f32.data() + (r - r0) * w.cols, w.cols);
    }
    const matrix tile{dtype::f32, w_f32.data(), tile_rows, w.cols};
    rows_kernel()(x, n, tile, 0, tile_rows, y_tile.data());
    for (int64_t t = 0; t < n; ++t) {
        std::memcpy(y + t * w.rows + r0, y_tile.data() + t * tile_rows, static_cast<size_t>(tile_rows) * sizeof(float));
    }
}

// Where the GEMM cannot serve (no VNNI, or no packed copy): bf16 from 2 tokens on AVX-512 BF16
// (it ran 2–4× the int8 row kernels from 4 tokens up), else, and always for one token, the int8
// row kernels (widening a row to BF16 for one token's use costs more than the dot product).
quant_batch_path fallback_quant_batch_path(int64_t n) {
    constexpr int64_t kBf16MinTokens = 2;
    return cpu_has_avx512_bf16() && n >= kBf16MinTokens ? quant_batch_path::bf16 : quant_batch_path::int8;
}

}  // namespace

quant_batch_path default_quant_batch_path(int64_t n) {
    // Measured in docs/QUANTIZATION.md (bench-kernels BM_MatmulQuant, BM_DecodeKernel): on VNNI the
    // packed layout wins at every n, decode (its own kernel) included.
    if (cpu_has_avx512_vnni()) return quant_batch_path::gemm;
    return fallback_quant_batch_path(n);
}

void matmul(thread_pool& pool, const float* x, int64_t n, std::initializer_list<matmul_out> outs) {
    matmul(pool, x, n, outs, default_quant_batch_path(n));
}

void matmul(thread_pool& pool, const float* x, int64_t n, std::initializer_list<matmul_out> outs, quant_batch_path path) {
    const std::vector<task> tasks = n == 1 ? split_rows_guided(pool, outs) : split_rows(pool, outs);
    const int64_t cols = outs.begin()->w->cols;
    // Decode (one token) meets Q4_K / Q6_K weights with their integer kernels; batches take the
    // GEMM where the weights have a packed copy, else widen them.
    bool any_k = false;
    for (const auto& o : outs) any_k |= dtype_has_k_decode_kernel(o.w->type);
    const bool k_decode = any_k && n == 1;
    // (their packed decode copy where the original blocks were released)
    auto k_kernel_serves = [&](const matrix& w) {
        return k_decode && dtype_has_k_decode_kernel(w.type) && (w.data != nullptr || w.decode_packed != nullptr);
    };
    // The GEMM serves the matrices packed for it (at load, on VNNI CPUs), one token (decode, its
    // own kernel) as well as batches; others of its types take the BF16 path where there is one
    // (batches), else the row kernels.
    const bool gemm = path == quant_batch_path::gemm && cpu_has_avx512_vnni();
    if (path == quant_batch_path::gemm) path = fallback_quant_batch_path(n);
    // (the K types too, in batches: their decode has kernels of its own)
    // (a matrix whose original blocks were released has only the packed copy)
    const auto on_gemm = [&](const matrix& w) {
        return w.packed != nullptr && !k_kernel_serves(w) && (w.data == nullptr || gemm);
    };
    bool any_bf16 = false, any_q8_kernel = false, any_dequantized = false, any_gemm = false;
    for (const auto& o : outs) {
        any_bf16 |= o.w->type == dtype::bf16;
        any_q8_kernel |= dtype_has_q8_kernel(o.w->type) && !on_gemm(*o.w);
        any_dequantized |= dtype_is_quantized(o.w->type) && !dtype_has_q8_kernel(o.w->type) && !k_kernel_serves(*o.w) && !on_gemm(*o.w);
        any_gemm |= on_gemm(*o.w);
    }
    const bool bf16_dot = cpu_has_avx512_bf16();
    // Q8_0 / Q4_0 / Q5_0 through the Q8 kernels unless the bf16 path is asked for (and available);
    // Q5_1, and the K types beyond decode, widened to BF16, or to float without it.
    const bool quant_via_bf16 = any_q8_kernel && path == quant_batch_path::bf16 && bf16_dot;
    // AVX-512 BF16: the activations rounded to BF16 once, for BF16 weights (the precision BF16
    // checkpoints are trained and served at) and for quantized weights widened to BF16.
    const uint16_t* x_bf16 = (any_bf16 || any_dequantized || quant_via_bf16) && bf16_dot ? bf16_activations(x, n, cols) : nullptr;
    // AVX2 BF16: the activations reordered once so the kernel widens weights cheaply.
    thread_local std::vector<float> x_pairs;
    if (any_bf16 && !cpu_has_avx512()) {
        x_pairs.resize(static_cast<size_t>(n * bf16_pair_columns(cols)));
        to_bf16_pairs(x, n, cols, x_pairs.data());
    }
    const float* xp = x_pairs.data();  // the pointer, not the thread_local: a worker would see its own
    std::optional<q8_inputs> xq, xg;
    const auto on_rows = [&](const matrix& w) { return dtype_has_q8_kernel(w.type) && !on_gemm(w); };
    if (any_q8_kernel && !quant_via_bf16) xq.emplace(pool, x, n, cols, outs, false, on_rows);
    if (any_gemm) xg.emplace(pool, x, n, cols, outs, true, on_gemm);
    // The token quantized per 256-block once, in a buffer of the calling thread.
    thread_local aligned_vector<uint8_t> xk_buffer;
    q8k_activations xk;
    if (k_decode) {
        xk_buffer.resize(static_cast<size_t>(q8k_activation_bytes(cols)));
        xk = quantize_activations_q8k(x, cols, xk_buffer.data());
    }
    const auto k_kernel = cpu_has_avx512_vnni() ? matmul_rows_k_avx512_vnni : matmul_rows_k_avx2;

    const matmul_rows_fn plain = rows_kernel();
    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const task& t = tasks[static_cast<size_t>(i)];
        const matrix& w = *t.out->w;
        if (on_gemm(w)) {
            xg->rows(w, t.r0, t.r1, t.out->y);
        } else if (dtype_is_quantized(w.type)) {
            if (k_kernel_serves(w)) {
                (w.decode_packed != nullptr ? k_decode_rows_avx512_vnni : k_kernel)(xk, w, t.r0, t.r1, t.out->y);
            } else if (dtype_has_q8_kernel(w.type) && !quant_via_bf16) {
                xq->rows(w, t.r0, t.r1, t.out->y);
            } else if (bf16_dot) {
                quantized_rows_via_bf16(x_bf16, n, w, t.r0, t.r1, t.out->y);
            } else {
                quantized_rows_via_f32(x, n, w, t.r0, t.r1, t.out->y);
            }
        } else if (w.type == dtype::bf16 && bf16_dot) {
            matmul_rows_bf16dot_avx512(x_bf16, n, w, t.r0, t.r1, t.out->y);
        } else if (w.type == dtype::bf16 && !cpu_has_avx512()) {
            matmul_rows_bf16_pairs_avx2(xp, x, n, w, t.r0, t.r1, t.out->y);
        } else {
            plain(x, n, w, t.r0, t.r1, t.out->y);
        }
    });
}

}  // namespace olm
