// random-model.h: an in-memory model of random BF16 weights for a config, no files: the CUDA
// tests' tiny models and bench-cuda's llama3-8b / qwen3-0.6b shapes. Weights are uniform with
// variance 1/fan_in (activations keep their scale through the layers); norms near 1.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/ops.h"
#include "model.h"
#include "thread-pool.h"

namespace olm {
namespace testing {

inline model_config llama_like_config(int32_t vocab, int32_t hidden, int32_t inter, int32_t n_layers, int32_t n_heads,
                                      int32_t n_kv_heads, int32_t head_dim) {
    model_config c;
    c.architecture = arch::llama;
    c.architecture_name = "LlamaForCausalLM";
    c.vocab_size = vocab;
    c.hidden_size = hidden;
    c.intermediate_size = inter;
    c.n_layers = n_layers;
    c.n_heads = n_heads;
    c.n_kv_heads = n_kv_heads;
    c.head_dim = head_dim;
    c.max_position_embeddings = 16384;
    c.rms_norm_eps = 1e-5f;
    c.rope.theta = 10000.0f;
    return c;
}

// meta-llama/Meta-Llama-3-8B's config.json shape (rope_scaling llama3 as in 3.1).
inline model_config llama3_8b_config() {
    model_config c = llama_like_config(128256, 4096, 14336, 32, 32, 8, 128);
    c.max_position_embeddings = 131072;
    c.rope.theta = 500000.0f;
    c.rope.llama3_scaling = true;
    c.rope.factor = 8.0f;
    c.rope.low_freq_factor = 1.0f;
    c.rope.high_freq_factor = 4.0f;
    c.rope.original_max_positions = 8192;
    c.bos_token_id = 128000;
    c.eos_token_ids = {128001};
    return c;
}

// Qwen/Qwen3-0.6B's config.json shape.
inline model_config qwen3_0_6b_config() {
    model_config c = llama_like_config(151936, 1024, 3072, 28, 16, 8, 128);
    c.architecture = arch::qwen3;
    c.architecture_name = "Qwen3ForCausalLM";
    c.max_position_embeddings = 40960;
    c.rms_norm_eps = 1e-6f;
    c.rope.theta = 1000000.0f;
    c.qk_norm = true;
    c.tie_word_embeddings = true;
    c.eos_token_ids = {151645};
    return c;
}

namespace detail {

inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Uniform in [-1, 1) from (seed, index).
inline float uniform(uint64_t seed, uint64_t i) {
    return float(int64_t(splitmix64(seed * 0x100000001B3ull + i) >> 40) - (int64_t(1) << 23)) / float(1 << 23);
}

}  // namespace detail

// A [rows, cols] BF16 matrix owned by m.owned_weights, filled in parallel on `pool`.
inline matrix random_bf16_matrix(model& m, thread_pool& pool, int64_t rows, int64_t cols, float scale, uint64_t seed) {
    m.owned_weights.emplace_back(size_t(rows * cols * 2));
    uint16_t* data = reinterpret_cast<uint16_t*>(m.owned_weights.back().data());
    const int64_t n = rows * cols, chunk = int64_t(1) << 20;
    pool.parallel_for((n + chunk - 1) / chunk, [&](int64_t c) {
        for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) data[i] = to_bf16(scale * detail::uniform(seed, uint64_t(i)));
    });
    matrix w;
    w.type = dtype::bf16;
    w.data = data;
    w.rows = rows;
    w.cols = cols;
    return w;
}

inline std::vector<float> random_vector(int64_t n, float center, float spread, uint64_t seed) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = center + spread * detail::uniform(seed, uint64_t(i));
    return v;
}

// Builds the model; q/k/v biases when c.qkv_bias, o bias when c.o_bias, q/k norms when c.qk_norm.
inline std::unique_ptr<model> make_random_model(const model_config& c, uint64_t seed, int32_t n_threads) {
    auto m = std::make_unique<model>();
    m->config = c;
    m->n_threads = n_threads;
    m->pool = std::make_shared<thread_pool>(n_threads);
    thread_pool& pool = *m->pool;
    // Every weight is pushed into owned_weights before any view is taken of a later one; the
    // vector of vectors may move its elements' headers, never their heap buffers.
    m->owned_weights.reserve(size_t(2 + 7 * c.n_layers));
    const int64_t h = c.hidden_size, hd = c.head_dim, q_dim = int64_t(c.n_heads) * hd, kv_dim = int64_t(c.n_kv_heads) * hd;
    const int64_t inter = c.intermediate_size;
    uint64_t s = seed * 1000003ull;
    const auto fan = [](int64_t fan_in) { return std::sqrt(3.0f / float(fan_in)); };
    m->embed = random_bf16_matrix(*m, pool, c.vocab_size, h, 1.0f, ++s);
    m->lm_head = c.tie_word_embeddings ? m->embed : random_bf16_matrix(*m, pool, c.vocab_size, h, fan(h), ++s);
    m->final_norm = random_vector(h, 1.0f, 0.1f, ++s);
    for (int32_t l = 0; l < c.n_layers; ++l) {
        layer_weights L;
        L.q = random_bf16_matrix(*m, pool, q_dim, h, fan(h), ++s);
        L.k = random_bf16_matrix(*m, pool, kv_dim, h, fan(h), ++s);
        L.v = random_bf16_matrix(*m, pool, kv_dim, h, fan(h), ++s);
        L.o = random_bf16_matrix(*m, pool, h, q_dim, fan(q_dim), ++s);
        L.gate = random_bf16_matrix(*m, pool, inter, h, fan(h), ++s);
        L.up = random_bf16_matrix(*m, pool, inter, h, fan(h), ++s);
        L.down = random_bf16_matrix(*m, pool, h, inter, fan(inter), ++s);
        L.attn_norm = random_vector(h, 1.0f, 0.1f, ++s);
        L.mlp_norm = random_vector(h, 1.0f, 0.1f, ++s);
        if (c.qkv_bias) {
            L.q_bias = random_vector(q_dim, 0.0f, 0.1f, ++s);
            L.k_bias = random_vector(kv_dim, 0.0f, 0.1f, ++s);
            L.v_bias = random_vector(kv_dim, 0.0f, 0.1f, ++s);
        }
        if (c.o_bias) L.o_bias = random_vector(h, 0.0f, 0.1f, ++s);
        if (c.qk_norm) {
            L.q_norm = random_vector(hd, 1.0f, 0.1f, ++s);
            L.k_norm = random_vector(hd, 1.0f, 0.1f, ++s);
        }
        m->layers.push_back(std::move(L));
    }
    m->rope_inv_freq = rope_frequencies(c);
    return m;
}

}  // namespace testing
}  // namespace olm
