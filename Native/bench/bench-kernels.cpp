// Kernel throughput on SmolLM2-135M and llama3-1b shapes (google benchmark; `--benchmark_format=json`
// prints JSON).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstring>
#include <random>
#include <vector>

#include "cpu/gemm-q8.h"
#include "cpu/k-decode.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "forward.h"
#include "huge-page-buffer.h"
#include "quant.h"
#include "thread-pool.h"

namespace {

struct bf16_weights {
    std::vector<uint16_t> data;
    olm::matrix m;
    bf16_weights(int64_t rows, int64_t cols) : data(size_t(rows * cols)) {
        std::mt19937 rng(1);
        for (auto& v : data) v = static_cast<uint16_t>(0x3C00 + (rng() & 0xFF));  // small positive bf16 values
        m = olm::matrix{olm::dtype::bf16, data.data(), rows, cols};
    }
};

// args: tokens n, rows, cols
void BM_MatmulBf16(benchmark::State& state) {
    const int64_t n = state.range(0), rows = state.range(1), cols = state.range(2);
    olm::thread_pool pool(2);
    bf16_weights w(rows, cols);
    std::vector<float> x(size_t(n * cols), 0.5f), y(size_t(n * rows));
    for (auto _ : state) {
        olm::matmul(pool, x.data(), n, {{&w.m, y.data()}});
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOPs"] = benchmark::Counter(double(2 * n * rows * cols) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    state.counters["weight_GBps"] = benchmark::Counter(double(rows * cols * 2) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_MatmulBf16)->Args({1, 49152, 576})->Args({32, 1536, 576})->Args({32, 49152, 576})->Args({256, 1536, 576})->UseRealTime();

// Quantized weights (type 3 = Q8_0, 4 = Q4_0, 2 = BF16 for comparison) on llama3-1b MLP shapes.
// args: tokens n, rows, cols, type
void BM_MatmulQuant(benchmark::State& state) {
    const int64_t n = state.range(0), rows = state.range(1), cols = state.range(2);
    const auto type = static_cast<olm::dtype>(state.range(3));
    olm::thread_pool pool(2);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> f(size_t(rows * cols));
    for (auto& v : f) v = normal(rng);
    std::vector<uint8_t> data(size_t(olm::dtype_row_bytes(type, cols) * rows));
    if (type == olm::dtype::bf16) {
        for (size_t i = 0; i < f.size(); ++i) reinterpret_cast<uint16_t*>(data.data())[i] = olm::to_bf16(f[i]);
    } else {
        olm::quantize_row(type, f.data(), data.data(), rows * cols);
    }
    olm::matrix w{type, data.data(), rows, cols};
    const auto path = static_cast<olm::quant_batch_path>(state.range(4));
    std::vector<uint8_t> packed;
    if (path == olm::quant_batch_path::gemm && olm::gemm_q8_packable(w)) {  // as load_model packs it
        packed.resize(size_t(olm::gemm_q8_packed_bytes(w) + 64));
        void* aligned = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
        olm::gemm_q8_pack_groups(w, 0, (rows + olm::kGemmGroupRows - 1) / olm::kGemmGroupRows, aligned);
        w.packed = aligned;
    }
    std::vector<float> x(size_t(n * cols)), y(size_t(n * rows));
    for (auto& v : x) v = normal(rng) * 50;
    for (auto _ : state) {
        olm::matmul(pool, x.data(), n, {{&w, y.data()}}, path);
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOPs"] = benchmark::Counter(double(2 * n * rows * cols) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    state.counters["weight_GBps"] = benchmark::Counter(double(w.bytes()) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
// Decode (n = 1) against BF16 and (path 2) over the packed layout; several tokens through the three
// batch paths (type 3 Q8_0, 4 Q4_0, 7 Q4_K, 8 Q6_K; last arg: 0 int8 row kernels, 1 rows widened
// to BF16, 2 the int8 GEMM).
BENCHMARK(BM_MatmulQuant)
    ->ArgsProduct({{1}, {8192}, {2048}, {2, 3, 4}, {0}})
    ->ArgsProduct({{1}, {8192}, {2048}, {3, 4}, {2}})  // decode over the packed layout
    ->ArgsProduct({{2, 4, 8, 16, 64, 256, 512}, {8192}, {2048}, {3, 4, 7, 8}, {0, 1, 2}})
    ->Args({64, 8192, 2048, 2, 0})
    ->ArgsProduct({{512}, {2048}, {2048, 8192}, {3, 4}, {2}})  // a prompt through llama3-1b's q / o and down shapes
    ->ArgNames({"n", "rows", "cols", "type", "path"})->UseRealTime();

// The packed copy matmul() decodes from on VNNI CPUs, as load_model makes it: the K types' decode
// layout (k-decode.h), else the int8 GEMM's (gemm-q8.h). The buffer owns it.
olm::huge_page_buffer attach_decode_copy(olm::matrix& w) {
    const bool k_type = olm::k_decode_packable(w);
    olm::huge_page_buffer copy(size_t(k_type ? olm::k_decode_packed_bytes(w) : olm::gemm_q8_packed_bytes(w)));
    (k_type ? olm::k_decode_pack_groups : olm::gemm_q8_pack_groups)(w, 0, (w.rows + olm::kGemmGroupRows - 1) / olm::kGemmGroupRows, copy.data());
    (k_type ? w.decode_packed : w.packed) = copy.data();
    return copy;
}

// One thread, one token, the kernels called directly (no pool): CPU time per matrix, which a busy
// machine disturbs less than wall time. args: rows, cols, type (2 BF16, 3 Q8_0, 4 Q4_0, 5 Q5_0, 7 Q4_K,
// 8 Q6_K), avx512 (0 AVX2, 1 AVX-512 VNNI row kernels, 2 Q8_0 / Q4_0 over the GEMM's packed layout,
// Q4_K / Q6_K over their decode layout (cpu/k-decode.h), as matmul() runs them on VNNI CPUs). The
// activation quantization is part of the timed work, as in matmul().
void BM_DecodeKernel(benchmark::State& state) {
    const int64_t rows = state.range(0), cols = state.range(1);
    const auto type = static_cast<olm::dtype>(state.range(2));
    const bool avx512 = state.range(3) != 0, packed_layout = state.range(3) == 2;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> f(size_t(rows * cols));
    for (auto& v : f) v = normal(rng);
    // Weights and packed copy on huge pages where the kernel offers them, as load_model places them.
    olm::huge_page_buffer data(size_t(olm::dtype_row_bytes(type, cols) * rows));
    if (type == olm::dtype::bf16) {
        for (size_t i = 0; i < f.size(); ++i) reinterpret_cast<uint16_t*>(data.data())[i] = olm::to_bf16(f[i]);
    } else {
        olm::quantize_row(type, f.data(), data.data(), rows * cols);
    }
    olm::matrix w{type, data.data(), rows, cols};
    const olm::huge_page_buffer packed = packed_layout ? attach_decode_copy(w) : olm::huge_page_buffer(0);
    std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows)), xp(static_cast<size_t>(cols));
    for (auto& v : x) v = normal(rng) * 50;
    std::vector<uint16_t> xb(static_cast<size_t>(cols));
    std::vector<uint8_t> q8(size_t(olm::q8_activation_bytes(1, cols) + 64));
    void* aligned = q8.data() + (64 - reinterpret_cast<uintptr_t>(q8.data()) % 64) % 64;
    const int32_t k = packed_layout ? olm::gemm_q8_corr_k(type) : avx512 ? olm::q8_corr_k_avx512_vnni(type) : olm::q8_corr_k_avx2(type);
    std::vector<uint8_t> q8k(size_t(olm::q8k_activation_bytes(cols)));
    for (auto _ : state) {
        if (type == olm::dtype::bf16 && avx512) {
            olm::to_bf16_avx512(x.data(), cols, xb.data());
            olm::matmul_rows_bf16dot_avx512(xb.data(), 1, w, 0, rows, y.data());
        } else if (type == olm::dtype::bf16) {
            olm::to_bf16_pairs(x.data(), 1, cols, xp.data());
            olm::matmul_rows_bf16_pairs_avx2(xp.data(), x.data(), 1, w, 0, rows, y.data());
        } else if (olm::dtype_has_k_decode_kernel(type)) {
            const olm::q8k_activations xq = olm::quantize_activations_q8k(x.data(), cols, q8k.data());
            if (packed_layout) {
                olm::k_decode_rows_avx512_vnni(xq, w, 0, rows, y.data());
            } else {
                (avx512 ? olm::matmul_rows_k_avx512_vnni : olm::matmul_rows_k_avx2)(xq, w, 0, rows, y.data());
            }
        } else {
            const olm::q8_activations xq = olm::quantize_activations(x.data(), 1, cols, k, aligned, 0, 1);
            if (packed_layout) {
                olm::gemm_q8_rows_avx512_vnni(xq, w, 0, rows, y.data());
            } else {
                (avx512 ? olm::matmul_rows_q8_avx512_vnni : olm::matmul_rows_q8_avx2)(xq, w, 0, rows, y.data());
            }
        }
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["weight_GBps"] = benchmark::Counter(double(w.bytes()) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    state.counters["Gweights_per_s"] = benchmark::Counter(double(rows * cols) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DecodeKernel)->ArgsProduct({{8192, 65536}, {2048}, {2, 3, 4, 5, 7, 8}, {0, 1}})->ArgNames({"rows", "cols", "type", "avx512"});
// 512 rows stay in the L2: the kernels' own speed, with no memory below it.
BENCHMARK(BM_DecodeKernel)->ArgsProduct({{512, 8192, 65536}, {2048}, {3, 4, 7, 8}, {2}})->ArgNames({"rows", "cols", "type", "avx512"});
// Two threads, each its own matrix past the L3: what the two cores stream together.
BENCHMARK(BM_DecodeKernel)->ArgsProduct({{65536}, {2048}, {4, 7, 8}, {1, 2}})->ArgNames({"rows", "cols", "type", "avx512"})->Threads(2)->UseRealTime();
// BF16 rows of 16 KiB (llama3-1b's down projection): the decode kernel streams them four at a time.
BENCHMARK(BM_DecodeKernel)->Args({16384, 8192, 2, 1})->ArgNames({"rows", "cols", "type", "avx512"});

// Decode as the engine streams it: one token through matmul() and a pool of `threads`, over 32
// gate-shaped matrices (8192 × 2048) in turn, far more than the L3 holds, so every call reads its
// matrix from DRAM. args: type (3 Q8_0, 4 Q4_0, 7 Q4_K, 8 Q6_K), layout (0 the GGUF blocks and the
// row kernels, 1 the packed copies load_model makes on VNNI CPUs), threads.
void BM_DecodeStream(benchmark::State& state) {
    const auto type = static_cast<olm::dtype>(state.range(0));
    const bool packed_layout = state.range(1) != 0;
    olm::thread_pool pool(int32_t(state.range(2)));
    const int64_t rows = 8192, cols = 2048, count = 32;
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> f(size_t(rows * cols));
    for (auto& v : f) v = normal(rng);
    std::vector<uint8_t> blocks(size_t(olm::dtype_row_bytes(type, cols) * rows));
    olm::quantize_row(type, f.data(), blocks.data(), rows * cols);
    std::vector<olm::huge_page_buffer> buffers;
    std::vector<olm::matrix> w;
    for (int64_t i = 0; i < count; ++i) {  // copies of one matrix: its bytes, not its values, matter here
        olm::matrix m{type, buffers.emplace_back(blocks.size()).data(), rows, cols};
        std::memcpy(const_cast<void*>(m.data), blocks.data(), blocks.size());
        if (packed_layout) buffers.push_back(attach_decode_copy(m));
        w.push_back(m);
    }
    std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
    for (auto& v : x) v = normal(rng) * 50;
    int64_t i = 0;
    for (auto _ : state) {
        olm::matmul(pool, x.data(), 1, {{&w[size_t(i++ % count)], y.data()}});
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["weight_GBps"] = benchmark::Counter(double(w[0].bytes()) * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DecodeStream)->ArgsProduct({{4, 7, 8}, {0, 1}, {1, 2}})->ArgNames({"type", "layout", "threads"})->UseRealTime();

// Decode attention: n_seqs sequences of ctx tokens, one query each (9 heads, 3 KV heads, head_dim 64),
// over a float32 (kv = 0), BF16 (kv = 1) or INT8 (kv = 2) cache, through the dispatch; kv = 3 is
// the INT8 cache through the AVX2 kernel (what a CPU without AVX-512 runs); kv = 4 is the BF16
// cache through the AVX2 kernel with its decode key split off (one thread below 16384 query·key
// products, as before the split: compare with kv = 1 at seqs 1, ctx 512, smollm2's step); kv = 5
// (BF16) and 6 (INT8) run the prefill kernel on the decode batch, whose tasks fill 3 of its 16
// lanes (it ran 2.0–2.5× slower than kv = 1 / 2: why decode keeps the other kernels).
void BM_DecodeAttention(benchmark::State& state) {
    const int32_t n_seqs = int32_t(state.range(0)), ctx = int32_t(state.range(1)), block = 16;
    const olm::dtype kv_type = state.range(2) == 0                                                ? olm::dtype::f32
                               : state.range(2) == 1 || state.range(2) == 4 || state.range(2) == 5 ? olm::dtype::bf16
                                                                                                  : olm::dtype::kv_int8;
    const int32_t n_heads = 9, n_kv = 3, hd = 64, blocks_per_seq = (ctx + block - 1) / block;
    olm::thread_pool pool(2);
    const size_t elements = size_t(n_seqs) * size_t(blocks_per_seq) * size_t(block) * size_t(n_kv) * size_t(hd);
    std::vector<uint16_t> k(elements * 2, 0x3C23), v(elements * 2, 0x3CA3);  // bytes enough for float32 (INT8: scales ~0.01)
    std::vector<float> q(size_t(n_seqs * n_heads * hd), 0.1f), out(q.size());
    std::vector<int32_t> positions(size_t(n_seqs), ctx - 1), qs(size_t(n_seqs + 1)), lens(size_t(n_seqs), ctx), indptr(size_t(n_seqs + 1)), idx;
    for (int32_t s = 0; s <= n_seqs; ++s) { qs[size_t(s)] = s; indptr[size_t(s)] = s * blocks_per_seq; }
    for (int32_t i = 0; i < n_seqs * blocks_per_seq; ++i) idx.push_back(i);
    const olm::batch_view b =
        olm::attention_batch(n_seqs, positions.data(), n_seqs, qs.data(), lens.data(), indptr.data(), idx.data());
    for (auto _ : state) {
        if (state.range(2) >= 5) {
            olm::paged_attention_avx512(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block, kv_type);
        } else if (state.range(2) == 4) {
            olm::paged_attention_avx2(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block, kv_type, 16384, 0);
        } else if (state.range(2) == 3) {
            olm::paged_attention_int8_avx2(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block);
        } else {
            olm::paged_attention(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block, kv_type);
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["GFLOPs"] = benchmark::Counter(4.0 * n_seqs * n_heads * ctx * hd * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DecodeAttention)->ArgsProduct({{32}, {512}, {0, 1, 2, 3}})->ArgsProduct({{1}, {4096}, {1, 2, 3}})
    ->ArgsProduct({{1}, {512}, {1, 4, 5, 6}})->ArgsProduct({{32}, {512}, {5, 6}})->ArgsProduct({{1}, {4096}, {5, 6}})
    ->ArgNames({"seqs", "ctx", "kv"})->UseRealTime();

// Prefill attention: one prompt of `tokens` tokens, llama3-1b's heads (32 query heads, 8 KV heads,
// head_dim 64), over a BF16 (kv = 1) or INT8 (kv = 2) cache; path 0 what paged_attention picks
// (the AVX-512 query-lane kernel where the CPU has it), 1 the AVX2 kernels.
void BM_PrefillAttention(benchmark::State& state) {
    const int32_t tokens = int32_t(state.range(0)), block = 16;
    const olm::dtype kv_type = state.range(1) == 1 ? olm::dtype::bf16 : olm::dtype::kv_int8;
    const int32_t n_heads = 32, n_kv = 8, hd = 64, n_blocks = (tokens + block - 1) / block;
    olm::thread_pool pool(2);
    const size_t bytes = size_t(n_blocks) * block * n_kv * size_t(olm::kv_row_bytes(kv_type, hd));
    std::vector<uint8_t> k(bytes), v(bytes);
    for (size_t i = 0; i < bytes; ++i) k[i] = uint8_t(i * 37 % 61), v[i] = uint8_t(i * 11 % 59);  // finite BF16 and scales
    std::vector<float> q(size_t(tokens * n_heads * hd), 0.1f), out(q.size());
    std::vector<int32_t> positions(static_cast<size_t>(tokens)), idx(static_cast<size_t>(n_blocks));
    for (int32_t t = 0; t < tokens; ++t) positions[size_t(t)] = t;
    for (int32_t i = 0; i < n_blocks; ++i) idx[size_t(i)] = i;
    const int32_t qs[2] = {0, tokens}, lens[1] = {tokens}, indptr[2] = {0, n_blocks};
    const olm::batch_view b =
        olm::attention_batch(tokens, positions.data(), 1, qs, lens, indptr, idx.data());
    for (auto _ : state) {
        if (state.range(2) == 0) {
            olm::paged_attention(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block, kv_type);
        } else if (kv_type == olm::dtype::kv_int8) {
            olm::paged_attention_int8_avx2(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block);
        } else {
            olm::paged_attention_avx2(pool, b, q.data(), k.data(), v.data(), out.data(), n_heads, n_kv, hd, block, kv_type);
        }
        benchmark::DoNotOptimize(out.data());
    }
    // causal: query t reads t + 1 keys
    state.counters["GFLOPs"] = benchmark::Counter(4.0 * n_heads * hd * (double(tokens) * (tokens + 1) / 2) * state.iterations(),
                                                  benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_PrefillAttention)->ArgsProduct({{512}, {1, 2}, {0, 1}})->ArgNames({"tokens", "kv", "path"})->UseRealTime();

}  // namespace

// The machine's multiply-add ceiling: per thread, 12 independent 8-lane FMA chains (more than
// latency × pipes), so the FMA units never wait. Tells how far a GEMM is from the hardware.
void BM_FmaPeak(benchmark::State& state) {
    constexpr int64_t kIters = 1 << 22;
    __m256 a[12];
    for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(1.0f + float(i) * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (auto _ : state) {
        for (int64_t k = 0; k < kIters; ++k)
            for (auto& v : a) v = _mm256_fmadd_ps(v, m, c);
        benchmark::DoNotOptimize(a);
    }
    state.counters["GFLOPs"] = benchmark::Counter(double(2 * 12 * 8 * kIters) * state.iterations(), benchmark::Counter::kIsRate,
                                                  benchmark::Counter::kIs1000);
}
BENCHMARK(BM_FmaPeak)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
