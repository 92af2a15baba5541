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
    // K/V cache element type: BF16 for BF16 checkpoints (the precision they are served at, half
    // the bytes) and quantized ones, float32 for F32 and F16 ones.
    dtype kv_type() const { return embed.type == dtype::bf16 || dtype_is_quantized(embed.type) ? dtype::bf16 : dtype::f32; }
    int64_t kv_bytes_per_token() const;
};

// RoPE inverse frequencies [head_dim / 2]: inv_freq[i] = theta^(-2i/d), with the llama3 rule
// that stretches low frequencies when the config asks for it.
std::vector<float> rope_frequencies(const model_config& c);

// Loads a model and checks every tensor's presence, shape and dtype. `path` is a GGUF file when
// is_gguf_path() says so (not a directory, and named *.gguf or beginning with "GGUF"), else a
// Hugging Face directory (config.json + safetensors). A quantized `quantize_to` (Q8_0, Q4_0)
// quantizes every matrix whose rows are whole blocks at load (docs/QUANTIZATION.md); any other
// value keeps the weights as stored.
std::unique_ptr<model> load_model(const std::string& path, int32_t n_threads,
                                  weight_memory memory = weight_memory::huge_pages, dtype quantize_to = dtype::f32);

}  // namespace olm
