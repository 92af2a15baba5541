// model.h: a loaded model: its config and views of its weights (memory-mapped, used as stored),
// from a Hugging Face directory (config.json + safetensors) or a GGUF file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "matrix.h"
#include "gguf.h"
#include "model-config.h"
#include "huge-page-buffer.h"
#include "quant-mix.h"
#include "safetensors.h"

namespace olm {

class thread_pool;

struct layer_weights {
    matrix q, k, v, o;          // q: [n_heads*head_dim, hidden], k/v: [n_kv_heads*head_dim, hidden], o: [hidden, n_heads*head_dim]
    matrix gate, up, down;      // gate/up: [intermediate, hidden], down: [hidden, intermediate]
    std::vector<float> attn_norm, mlp_norm;   // [hidden]
    std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty when absent
    std::vector<float> q_norm, k_norm;        // [head_dim], qwen3 only
};

struct model {
    model_config config;
    std::unique_ptr<safetensors_set> files;  // the weights of an HF directory, or
    std::unique_ptr<gguf_file> gguf;          // of a GGUF file
    // Weights computed at load: the Q/K matrices of llama-arch GGUF files (rows in HF order) and
    // matrices quantized at load; in huge pages, as the weights decode streams should be.
    std::vector<huge_page_buffer> owned_weights;
    matrix embed;                 // [vocab, hidden]
    matrix lm_head;               // [vocab, hidden]; the embedding when tied
    std::vector<float> final_norm;  // [hidden]
    std::vector<layer_weights> layers;
    std::vector<float> rope_inv_freq;  // [head_dim / 2], rope scaling applied
    int32_t n_threads = 0;
    std::shared_ptr<thread_pool> pool;

    int64_t weight_bytes_per_token() const;
    // Bytes of original Q8_0 / Q4_0 / Q4_K / Q6_K blocks handed back after packing (pack_weights_for_gemm).
    int64_t released_weight_bytes = 0;
    // The KV cache type contexts and engines get when they name none (orleansllm_model_params
    // .kv_cache_dtype); 0 = natural_kv_type().
    int32_t kv_cache_dtype = 0;

    // BF16 for BF16 checkpoints (the precision they are served at, half the bytes) and quantized
    // ones, float32 for F32 and F16 ones.
    dtype natural_kv_type() const { return embed.type == dtype::bf16 || dtype_is_quantized(embed.type) ? dtype::bf16 : dtype::f32; }
    // The KV cache type for a C API kv_cache_dtype value: 0 = the model's (kv_cache_dtype, else
    // natural), ORLEANSLLM_DTYPE_BF16 or ORLEANSLLM_DTYPE_KV_INT8; throws ORLEANSLLM_ERR_UNSUPPORTED
    // naming the value otherwise.
    dtype kv_type(int32_t requested = 0) const;
    // K and V of one token, all layers, in a cache of type t.
    int64_t kv_bytes_per_token(dtype t) const;
    int64_t kv_bytes_per_token() const { return kv_bytes_per_token(kv_type()); }
};

// Calls fn(matrix&) (const matrix& for a const model) for every matrix that multiplies
// activations: the LM head, then each layer's q, k, v, o, gate, up and down (not the embedding,
// which is only looked up). A tied LM head is visited as the LM head.
template <typename Model, typename Fn>
void for_each_projection(Model& m, Fn&& fn) {
    fn(m.lm_head);
    for (auto& l : m.layers)
        for (auto* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) fn(*w);
}

// RoPE inverse frequencies [head_dim / 2]: inv_freq[i] = theta^(-2i/d), with the llama3 rule
// that stretches low frequencies when the config asks for it.
std::vector<float> rope_frequencies(const model_config& c);

// Loads a model and checks every tensor's presence, shape and dtype. `path` is a GGUF file when
// is_gguf_path() says so (not a directory, and named *.gguf or beginning with "GGUF"), else a
// Hugging Face directory (config.json + safetensors). `weights` other than as_stored quantizes
// the matrices at load, each to its type under the scheme (quant-mix.h, docs/QUANTIZATION.md).
std::unique_ptr<model> load_model(const std::string& path, int32_t n_threads,
                                  weight_memory memory = weight_memory::huge_pages,
                                  weight_scheme weights = weight_scheme::as_stored);

}  // namespace olm
