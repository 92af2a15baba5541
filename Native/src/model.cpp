#include "model.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "status.h"
#include "thread-pool.h"

namespace olm {

namespace {

std::string shape_string(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

const tensor_view& require(const safetensors_set& set, const std::string& name, std::vector<int64_t> shape) {
    const tensor_view* t = set.find(name);
    if (t == nullptr) throw error(ORLEANSLLM_ERR_FORMAT, "missing tensor '" + name + "'");
    if (t->shape != shape) {
        throw error(ORLEANSLLM_ERR_FORMAT, t->file + ": tensor '" + name + "' has shape " + shape_string(t->shape) +
                                               ", expected " + shape_string(shape));
    }
    return *t;
}

matrix load_matrix(const safetensors_set& set, const std::string& name, int64_t rows, int64_t cols) {
    const tensor_view& t = require(set, name, {rows, cols});
    return matrix{t.type, t.data, rows, cols};
}

float to_float(dtype type, const void* data, int64_t i) {
    switch (type) {
        case dtype::f32: return static_cast<const float*>(data)[i];
        case dtype::bf16: {
            uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(data)[i]) << 16;
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
        case dtype::f16: return _cvtsh_ss(static_cast<const uint16_t*>(data)[i]);
    }
    return 0.0f;
}

// Small vectors (norms, biases) are converted to float32 once; matrices stay as stored.
std::vector<float> load_vector(const safetensors_set& set, const std::string& name, int64_t n) {
    const tensor_view& t = require(set, name, {n});
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = to_float(t.type, t.data, i);
    return out;
}

// inv_freq[i] = theta^(-2i/d), with the llama3 rule that stretches low frequencies.
std::vector<float> rope_frequencies(const model_config& c) {
    const int32_t half = c.head_dim / 2;
    std::vector<float> inv(static_cast<size_t>(half));
    for (int32_t i = 0; i < half; ++i) {
        float exponent = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
        inv[static_cast<size_t>(i)] = 1.0f / std::pow(c.rope.theta, exponent);
    }
    if (!c.rope.llama3_scaling) return inv;
    const float old_ctx = static_cast<float>(c.rope.original_max_positions);
    const float low_wavelen = old_ctx / c.rope.low_freq_factor;
    const float high_wavelen = old_ctx / c.rope.high_freq_factor;
    for (auto& f : inv) {
        const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
        if (wavelen > low_wavelen) {
            f = f / c.rope.factor;
        } else if (wavelen >= high_wavelen) {
            const float smooth = (old_ctx / wavelen - c.rope.low_freq_factor) / (c.rope.high_freq_factor - c.rope.low_freq_factor);
            f = (1.0f - smooth) * f / c.rope.factor + smooth * f;
        }
    }
    return inv;
}

}  // namespace

std::unique_ptr<model> load_model(const std::string& model_dir, int32_t n_threads, weight_memory memory) {
    auto m = std::make_unique<model>();
    m->config = load_model_config(model_dir);
    m->files = std::make_unique<safetensors_set>(model_dir, memory);
    const model_config& c = m->config;
    const safetensors_set& set = *m->files;
    const int64_t hidden = c.hidden_size, q_dim = int64_t(c.n_heads) * c.head_dim, kv_dim = int64_t(c.n_kv_heads) * c.head_dim;

    m->embed = load_matrix(set, "model.embed_tokens.weight", c.vocab_size, hidden);
    if (set.find("lm_head.weight") != nullptr && !c.tie_word_embeddings) {
        m->lm_head = load_matrix(set, "lm_head.weight", c.vocab_size, hidden);
    } else if (c.tie_word_embeddings) {
        m->lm_head = m->embed;
    } else {
        throw error(ORLEANSLLM_ERR_FORMAT, "missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
    }
    m->final_norm = load_vector(set, "model.norm.weight", hidden);
    for (int32_t i = 0; i < c.n_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        layer_weights l;
        l.q = load_matrix(set, p + "self_attn.q_proj.weight", q_dim, hidden);
        l.k = load_matrix(set, p + "self_attn.k_proj.weight", kv_dim, hidden);
        l.v = load_matrix(set, p + "self_attn.v_proj.weight", kv_dim, hidden);
        l.o = load_matrix(set, p + "self_attn.o_proj.weight", hidden, q_dim);
        l.gate = load_matrix(set, p + "mlp.gate_proj.weight", c.intermediate_size, hidden);
        l.up = load_matrix(set, p + "mlp.up_proj.weight", c.intermediate_size, hidden);
        l.down = load_matrix(set, p + "mlp.down_proj.weight", hidden, c.intermediate_size);
        l.attn_norm = load_vector(set, p + "input_layernorm.weight", hidden);
        l.mlp_norm = load_vector(set, p + "post_attention_layernorm.weight", hidden);
        if (c.qkv_bias) {
            l.q_bias = load_vector(set, p + "self_attn.q_proj.bias", q_dim);
            l.k_bias = load_vector(set, p + "self_attn.k_proj.bias", kv_dim);
            l.v_bias = load_vector(set, p + "self_attn.v_proj.bias", kv_dim);
        }
        if (c.o_bias) l.o_bias = load_vector(set, p + "self_attn.o_proj.bias", hidden);
        if (c.qk_norm) {
            l.q_norm = load_vector(set, p + "self_attn.q_norm.weight", c.head_dim);
            l.k_norm = load_vector(set, p + "self_attn.k_norm.weight", c.head_dim);
        }
        m->layers.push_back(std::move(l));
    }
    m->rope_inv_freq = rope_frequencies(c);
    m->n_threads = n_threads > 0 ? n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    m->pool = std::make_shared<thread_pool>(m->n_threads);
    return m;
}

int64_t model::weight_bytes_per_token() const {
    int64_t total = lm_head.bytes();
    for (const auto& l : layers) {
        total += l.q.bytes() + l.k.bytes() + l.v.bytes() + l.o.bytes() + l.gate.bytes() + l.up.bytes() + l.down.bytes();
    }
    return total;
}

int64_t model::kv_bytes_per_token() const {
    return int64_t(2) * config.n_layers * config.n_kv_heads * config.head_dim * dtype_size(kv_type());
}

}  // namespace olm
