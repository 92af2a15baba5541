#include "model.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "cpu/cpu-features.h"
#include "cpu/gemm-q8.h"
#include "cpu/k-decode.h"
#include "huge-page-buffer.h"
#include "quant.h"
#include "status.h"
#include "thread-pool.h"

namespace olm {

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

namespace {

std::string shape_string(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

using tensor_map = std::map<std::string, tensor_view>;

// The names a checkpoint gives each weight: Hugging Face's in safetensors, llama.cpp's in GGUF
// (docs/GGUF.md). Layer weights are `layer_prefix` + N + "." + name + ".weight" (or ".bias").
struct weight_names {
    const char* embed;
    const char* final_norm;
    const char* lm_head;
    const char* layer_prefix;
    const char *q, *k, *v, *o, *gate, *up, *down, *attn_norm, *mlp_norm, *q_norm, *k_norm;
};

constexpr weight_names hf_names{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.",
                                "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm",
                                "post_attention_layernorm", "self_attn.q_norm", "self_attn.k_norm"};

constexpr weight_names gguf_names{"token_embd.weight", "output_norm.weight", "output.weight", "blk.",
                                  "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
                                  "attn_norm", "ffn_norm", "attn_q_norm", "attn_k_norm"};

// `source` (the model directory or file) is named when the tensor is missing.
const tensor_view& require(const tensor_map& tensors, const std::string& source, const std::string& name,
                           std::vector<int64_t> shape) {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw error(ORLEANSLLM_ERR_FORMAT, "missing tensor '" + name + "' in " + source);
    const tensor_view& t = it->second;
    if (t.shape != shape) {
        throw error(ORLEANSLLM_ERR_FORMAT, t.file + ": tensor '" + name + "' has shape " + shape_string(t.shape) +
                                               ", expected " + shape_string(shape));
    }
    return t;
}

matrix load_matrix(const tensor_map& tensors, const std::string& source, const std::string& name, int64_t rows, int64_t cols) {
    const tensor_view& t = require(tensors, source, name, {rows, cols});
    if (dtype_is_quantized(t.type) && cols % dtype_block_elements(t.type) != 0) {  // GGUF's reader checks this too
        throw error(ORLEANSLLM_ERR_FORMAT, t.file + ": tensor '" + name + "' is " + dtype_name(t.type) + " with rows of " +
                                               std::to_string(cols) + " elements, not whole blocks");
    }
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
        default: break;  // quantized vectors are refused by load_vector
    }
    return 0.0f;
}

// Small vectors (norms, biases) are converted to float32 once; matrices stay as stored.
std::vector<float> load_vector(const tensor_map& tensors, const std::string& source, const std::string& name, int64_t n) {
    const tensor_view& t = require(tensors, source, name, {n});
    if (dtype_is_quantized(t.type)) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED, t.file + ": tensor '" + name + "' is " + dtype_name(t.type) +
                                                    "; vectors (norms, biases) must be F32, F16 or BF16");
    }
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = to_float(t.type, t.data, i);
    return out;
}

// Points `m`'s weights at `tensors` (named by `names`), checking that every weight its config needs
// is there with the right shape. `source` names the directory or file in errors.
void bind_weights(model& m, const tensor_map& tensors, const weight_names& names, const std::string& source) {
    const model_config& c = m.config;
    const int64_t hidden = c.hidden_size, q_dim = int64_t(c.n_heads) * c.head_dim, kv_dim = int64_t(c.n_kv_heads) * c.head_dim;

    m.embed = load_matrix(tensors, source, names.embed, c.vocab_size, hidden);
    if (tensors.count(names.lm_head) != 0 && !c.tie_word_embeddings) {
        m.lm_head = load_matrix(tensors, source, names.lm_head, c.vocab_size, hidden);
    } else if (c.tie_word_embeddings) {
        m.lm_head = m.embed;
    } else {
        throw error(ORLEANSLLM_ERR_FORMAT, std::string("missing tensor '") + names.lm_head + "' (tie_word_embeddings is false)");
    }
    m.final_norm = load_vector(tensors, source, names.final_norm, hidden);
    for (int32_t i = 0; i < c.n_layers; ++i) {
        const std::string p = names.layer_prefix + std::to_string(i) + ".";
        auto weight = [&](const char* name) { return p + name + ".weight"; };
        auto bias = [&](const char* name) { return p + name + ".bias"; };
        layer_weights l;
        l.q = load_matrix(tensors, source, weight(names.q), q_dim, hidden);
        l.k = load_matrix(tensors, source, weight(names.k), kv_dim, hidden);
        l.v = load_matrix(tensors, source, weight(names.v), kv_dim, hidden);
        l.o = load_matrix(tensors, source, weight(names.o), hidden, q_dim);
        l.gate = load_matrix(tensors, source, weight(names.gate), c.intermediate_size, hidden);
        l.up = load_matrix(tensors, source, weight(names.up), c.intermediate_size, hidden);
        l.down = load_matrix(tensors, source, weight(names.down), hidden, c.intermediate_size);
        l.attn_norm = load_vector(tensors, source, weight(names.attn_norm), hidden);
        l.mlp_norm = load_vector(tensors, source, weight(names.mlp_norm), hidden);
        if (c.qkv_bias) {
            l.q_bias = load_vector(tensors, source, bias(names.q), q_dim);
            l.k_bias = load_vector(tensors, source, bias(names.k), kv_dim);
            l.v_bias = load_vector(tensors, source, bias(names.v), kv_dim);
        }
        if (c.o_bias) l.o_bias = load_vector(tensors, source, bias(names.o), hidden);
        if (c.qk_norm) {
            l.q_norm = load_vector(tensors, source, weight(names.q_norm), c.head_dim);
            l.k_norm = load_vector(tensors, source, weight(names.k_norm), c.head_dim);
        }
        m.layers.push_back(std::move(l));
    }
}

// Undoes the llama-arch Q/K row permutation of GGUF files (docs/GGUF.md): within each head of
// `head_dim` rows, GGUF row 2i + j holds HF row j·head_dim/2 + i. Rows are `row_bytes` each.
void unpermute_rows(const uint8_t* src, uint8_t* dst, int64_t n_rows, int64_t row_bytes, int64_t head_dim) {
    const int64_t half = head_dim / 2;
    for (int64_t head = 0; head < n_rows / head_dim; ++head) {
        for (int64_t i = 0; i < half; ++i) {
            for (int64_t j = 0; j < 2; ++j) {
                const int64_t from = head * head_dim + 2 * i + j, to = head * head_dim + j * half + i;
                std::memcpy(dst + to * row_bytes, src + from * row_bytes, static_cast<size_t>(row_bytes));
            }
        }
    }
}

// A copy of `w` with its rows in HF order, in memory `m` owns.
matrix unpermuted_copy(model& m, const matrix& w) {
    huge_page_buffer& copy = m.owned_weights.emplace_back(static_cast<size_t>(w.bytes()));
    unpermute_rows(static_cast<const uint8_t*>(w.data), copy.data(), w.rows, w.bytes() / w.rows, m.config.head_dim);
    return matrix{w.type, copy.data(), w.rows, w.cols};
}

void unpermute_in_place(std::vector<float>& v, int64_t head_dim) {
    if (v.empty()) return;
    std::vector<float> src = v;
    unpermute_rows(reinterpret_cast<const uint8_t*>(src.data()), reinterpret_cast<uint8_t*>(v.data()),
                   static_cast<int64_t>(v.size()), sizeof(float), head_dim);
}

// llama3 rope scaling in a GGUF file: one factor per frequency that divides it.
void apply_rope_freqs(model& m, const gguf_file& file) {
    if (file.find("rope_freqs.weight") == nullptr) return;
    const std::vector<float> factors =
        load_vector(file.tensors(), file.path(), "rope_freqs.weight", static_cast<int64_t>(m.rope_inv_freq.size()));
    for (size_t i = 0; i < factors.size(); ++i) {
        if (!(factors[i] > 0.0f) || !std::isfinite(factors[i])) {
            throw error(ORLEANSLLM_ERR_FORMAT, file.path() + ": rope_freqs.weight[" + std::to_string(i) + "] = " +
                                                   std::to_string(factors[i]) + " is not a positive factor");
        }
        m.rope_inv_freq[i] /= factors[i];
    }
}

void load_gguf(model& m, const std::string& path, weight_memory memory) {
    m.gguf = std::make_unique<gguf_file>(path, memory);
    m.config = load_gguf_model_config(*m.gguf);
    bind_weights(m, m.gguf->tensors(), gguf_names, path);
    if (m.config.architecture == arch::llama) {
        for (auto& l : m.layers) {
            l.q = unpermuted_copy(m, l.q);
            l.k = unpermuted_copy(m, l.k);
            unpermute_in_place(l.q_bias, m.config.head_dim);
            unpermute_in_place(l.k_bias, m.config.head_dim);
        }
    }
    m.rope_inv_freq = rope_frequencies(m.config);
    apply_rope_freqs(m, *m.gguf);
}

// Every matrix of `m` (embedding and LM head included) quantized to its type under `scheme`, in
// memory `m` owns, rows converted one at a time; a matrix the scheme leaves unquantized (rows not
// whole blocks), or already quantized, stays as it is. Rows are split across the pool. The pages
// of each source matrix are handed back once it is quantized (release_weight_pages).
void quantize_weights(model& m, weight_scheme scheme) {
    const bool tied = m.lm_head.data == m.embed.data;
    const int n_layers = static_cast<int>(m.layers.size());
    std::map<const void*, matrix> done;  // by source data: a tied LM head is the embedding's copy
    auto quantize = [&](matrix& w, weight_role role, int layer) {
        const dtype type = scheme_type(scheme, role, layer, n_layers, w.cols, tied);
        if (dtype_is_quantized(w.type) || !dtype_is_quantized(type)) return;
        if (auto it = done.find(w.data); it != done.end()) {
            w = it->second;
            return;
        }
        const matrix q{type, nullptr, w.rows, w.cols};
        huge_page_buffer& out = m.owned_weights.emplace_back(static_cast<size_t>(q.bytes()));
        const matrix src = w;
        m.pool->parallel_for(std::min<int64_t>(w.rows, int64_t(m.pool->size()) * 4), [&](int64_t part) {
            const int64_t parts = std::min<int64_t>(src.rows, int64_t(m.pool->size()) * 4);
            std::vector<float> row(static_cast<size_t>(src.cols));
            for (int64_t r = src.rows * part / parts; r < src.rows * (part + 1) / parts; ++r) {
                const uint8_t* in = static_cast<const uint8_t*>(src.data) + r * src.row_bytes();
                for (int64_t k = 0; k < src.cols; ++k) row[size_t(k)] = to_float(src.type, in, k);
                quantize_row(type, row.data(), out.data() + r * q.row_bytes(), src.cols);
            }
        });
        w = matrix{type, out.data(), w.rows, w.cols};
        done.emplace(src.data, w);
        // nothing reads the unquantized rows again (a tied LM head maps to the same copy above)
        m.released_weight_bytes += release_weight_pages(src.data, src.bytes());
    };
    quantize(m.embed, weight_role::token_embd, 0);
    quantize(m.lm_head, weight_role::output, 0);
    for (int i = 0; i < n_layers; ++i) {
        layer_weights& l = m.layers[size_t(i)];
        for (matrix* w : {&l.q, &l.k, &l.o, &l.gate, &l.up}) quantize(*w, weight_role::other, i);
        quantize(l.v, weight_role::attn_v, i);
        quantize(l.down, weight_role::ffn_down, i);
    }
}

// The int8 GEMM's copy of every Q8_0 / Q4_0 / Q4_K / Q6_K matrix that multiplies activations (not
// the embedding, which is only looked up), and the K types' decode copy (cpu/k-decode.h), on CPUs
// that run them (AVX-512 VNNI). Every such matrix then runs on its packed copies alone, so its
// original blocks are handed back to the system and its data set to null (matmul then takes the
// packed kernels whatever path is asked), except a matrix the embedding shares (a tied LM head).
// ORLEANSLLM_KEEP_PACKED_SOURCES=1 keeps every original (bench-packed-decode compares the layouts).
// docs/QUANTIZATION.md, "Memory".
void pack_weights_for_gemm(model& m) {
    if (!cpu_has_avx512_vnni()) return;
    // Page-aligned (huge pages from 2 MiB): the kernels' 64-byte loads never split a line. Row
    // groups of 16 are independent: split across the pool.
    auto pack_copy = [&](const matrix& w, int64_t bytes, auto pack_groups) {
        void* aligned = m.owned_weights.emplace_back(static_cast<size_t>(bytes)).data();
        const int64_t groups = (w.rows + kGemmGroupRows - 1) / kGemmGroupRows;
        const int64_t parts = std::min<int64_t>(groups, int64_t(m.pool->size()) * 4);
        m.pool->parallel_for(parts, [&](int64_t i) { pack_groups(w, groups * i / parts, groups * (i + 1) / parts, aligned); });
        return static_cast<const void*>(aligned);
    };
    static_assert(kGemmGroupRows == kKDecodeGroupRows, "one row split for both copies");
    std::map<const void*, matrix> done;  // by data: a matrix shared between two uses
    auto pack = [&](matrix& w) {
        if (!gemm_q8_packable(w)) return;
        if (auto it = done.find(w.data); it != done.end()) {
            w.packed = it->second.packed;
            w.decode_packed = it->second.decode_packed;
            return;
        }
        w.packed = pack_copy(w, gemm_q8_packed_bytes(w), gemm_q8_pack_groups);
        if (k_decode_packable(w)) w.decode_packed = pack_copy(w, k_decode_packed_bytes(w), k_decode_pack_groups);
        done.emplace(w.data, w);
    };
    for_each_projection(m, pack);
    const char* keep = std::getenv("ORLEANSLLM_KEEP_PACKED_SOURCES");
    if (keep != nullptr && std::strcmp(keep, "1") == 0) return;
    std::set<const void*> released;
    auto release = [&](matrix& w) {
        if (w.packed == nullptr || w.data == m.embed.data) return;
        if (released.insert(w.data).second) m.released_weight_bytes += release_weight_pages(w.data, w.bytes());
        w.data = nullptr;
    };
    for_each_projection(m, release);
}

}  // namespace

std::unique_ptr<model> load_model(const std::string& path, int32_t n_threads, weight_memory memory, weight_scheme weights) {
    auto m = std::make_unique<model>();
    if (is_gguf_path(path)) {
        load_gguf(*m, path, memory);
    } else {
        m->config = load_model_config(path);
        m->files = std::make_unique<safetensors_set>(path, memory);
        bind_weights(*m, m->files->tensors(), hf_names, path);
        m->rope_inv_freq = rope_frequencies(m->config);
    }
    m->n_threads = n_threads > 0 ? n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    m->pool = std::make_shared<thread_pool>(m->n_threads);
    if (weights != weight_scheme::as_stored) quantize_weights(*m, weights);
    pack_weights_for_gemm(*m);
    return m;
}

int64_t model::weight_bytes_per_token() const {
    int64_t total = 0;
    for_each_projection(*this, [&](const matrix& w) { total += w.bytes(); });
    return total;
}

dtype model::kv_type(int32_t requested) const {
    const int32_t chosen = requested != 0 ? requested : kv_cache_dtype;
    if (chosen == 0) return natural_kv_type();
    if (chosen == int32_t(dtype::bf16) || chosen == int32_t(dtype::kv_int8)) return dtype(chosen);
    throw error(ORLEANSLLM_ERR_UNSUPPORTED, "kv_cache_dtype " + std::to_string(chosen) +
                                                " is not supported: 0 (the model's default), 2 (BF16) or 9 (INT8)");
}

int64_t model::kv_bytes_per_token(dtype t) const {
    return int64_t(2) * config.n_layers * config.n_kv_heads * kv_row_bytes(t, config.head_dim);
}

}  // namespace olm
