// model-config.h: the subset of a Hugging Face config.json the Llama-family forward needs, read
// from config.json or from a GGUF file's metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace olm {

class gguf_file;

enum class arch : int32_t { llama, mistral, qwen2, qwen3 };

struct rope_config {
    float theta = 10000.0f;
    bool llama3_scaling = false;  // rope_scaling.rope_type == "llama3" (GGUF files carry rope_freqs.weight instead)
    float factor = 1.0f;
    float low_freq_factor = 1.0f;
    float high_freq_factor = 4.0f;
    int32_t original_max_positions = 8192;
};

struct model_config {
    arch architecture = arch::llama;
    std::string architecture_name;
    int32_t vocab_size = 0;
    int32_t hidden_size = 0;
    int32_t intermediate_size = 0;
    int32_t n_layers = 0;
    int32_t n_heads = 0;
    int32_t n_kv_heads = 0;
    int32_t head_dim = 0;
    int32_t max_position_embeddings = 0;
    float rms_norm_eps = 1e-6f;
    rope_config rope;
    bool tie_word_embeddings = false;
    bool qkv_bias = false;   // qwen2, or llama with attention_bias
    bool o_bias = false;     // llama with attention_bias
    bool qk_norm = false;    // qwen3
    int32_t bos_token_id = -1;
    std::vector<int32_t> eos_token_ids;
};

// Reads and validates <dir>/config.json; throws olm::error naming the file and the key.
model_config load_model_config(const std::string& model_dir);

// Builds the config from a GGUF file's metadata (docs/GGUF.md) and which tensors it holds: q/k/v and
// o biases when blk.0 has them, tied embeddings when output.weight is absent, the vocabulary from
// token_embd's rows. Throws olm::error naming the file and the key.
model_config load_gguf_model_config(const gguf_file& file);

}  // namespace olm
