// gguf-writer.h: a test-only GGUF writer (docs/GGUF.md) and an HF -> GGUF conversion written
// from that contract, as a converter would do it: llama.cpp names, ne reversed, the llama-arch Q/K
// row permutation, rope_freqs.weight for llama3 rope scaling, no output.weight when tied, norms
// and biases as F32. test-gguf.cpp reads what it writes, and breaks it.
#pragma once

#include <immintrin.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "quant.h"
#include "safetensors.h"

namespace gguf_test {

namespace fs = std::filesystem;

// ggml type ids (docs/GGUF.md).
constexpr uint32_t kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kQ4K = 12, kBF16 = 30;

// --- a GGUF writer -----------------------------------------------------------------------------

inline void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
inline void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
inline void put_f32(std::string& out, float v) { out.append(reinterpret_cast<const char*>(&v), 4); }
inline void put_string(std::string& out, const std::string& s) {
    put_u64(out, s.size());
    out += s;
}

struct gguf_tensor {
    std::string name;
    std::vector<uint64_t> ne;        // innermost dimension first
    uint32_t type = kF32;
    std::string data;
    std::optional<uint64_t> offset;  // replaces the laid-out offset (to misalign it)
};

// Where build() put each section.
struct gguf_layout {
    size_t metadata_begin = 0, infos_begin = 0, data_begin = 0;
};

// A GGUF file in memory: metadata entries are serialized as they are added, tensors laid out at
// build(). Fields are public so that a test can break any of them.
struct gguf_writer {
    uint32_t version = 3;
    uint64_t alignment = 32;  // a different value needs general.alignment too
    std::string kv;
    uint64_t n_kv = 0;
    std::vector<gguf_tensor> tensors;

    void key(const std::string& k, uint32_t value_type) {
        put_string(kv, k);
        put_u32(kv, value_type);
        ++n_kv;
    }
    void add_u32(const std::string& k, uint32_t v) {
        key(k, 4);
        put_u32(kv, v);
    }
    void add_f32(const std::string& k, float v) {
        key(k, 6);
        put_f32(kv, v);
    }
    void add_string(const std::string& k, const std::string& v) {
        key(k, 8);
        put_string(kv, v);
    }
    void add_string_array(const std::string& k, const std::vector<std::string>& v) {
        key(k, 9);
        put_u32(kv, 8);
        put_u64(kv, v.size());
        for (const auto& s : v) put_string(kv, s);
    }
    void add_i32_array(const std::string& k, const std::vector<int32_t>& v) {
        key(k, 9);
        put_u32(kv, 5);
        put_u64(kv, v.size());
        for (int32_t x : v) put_u32(kv, static_cast<uint32_t>(x));
    }
    gguf_tensor& add_tensor(const std::string& name, uint32_t type, std::vector<uint64_t> ne, std::string data) {
        tensors.push_back(gguf_tensor{name, std::move(ne), type, std::move(data), std::nullopt});
        return tensors.back();
    }
    gguf_tensor& tensor(const std::string& name) {
        for (auto& t : tensors) {
            if (t.name == name) return t;
        }
        throw std::runtime_error("no tensor " + name);
    }

    std::string build(gguf_layout* layout = nullptr) const {
        std::string out = "GGUF";
        put_u32(out, version);
        put_u64(out, tensors.size());
        put_u64(out, n_kv);
        gguf_layout l;
        l.metadata_begin = out.size();
        out += kv;
        l.infos_begin = out.size();
        std::string data;
        for (const auto& t : tensors) {
            put_string(out, t.name);
            put_u32(out, static_cast<uint32_t>(t.ne.size()));
            for (uint64_t n : t.ne) put_u64(out, n);
            put_u32(out, t.type);
            put_u64(out, t.offset.value_or(data.size()));
            data += t.data;
            data.append((alignment - data.size() % alignment) % alignment, '\0');
        }
        out.append((alignment - out.size() % alignment) % alignment, '\0');
        l.data_begin = out.size();
        if (layout != nullptr) *layout = l;
        return out + data;
    }
};

inline void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --- HF -> GGUF, as docs/GGUF.md says a converter writes it ---------------------------------------

// llama.cpp's name of an HF weight.
inline std::string gguf_name(const std::string& hf) {
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    static const std::pair<const char*, const char*> layer_names[] = {
        {"self_attn.q_proj", "attn_q"},        {"self_attn.k_proj", "attn_k"},   {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"},   {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
        {"mlp.gate_proj", "ffn_gate"},         {"mlp.up_proj", "ffn_up"},        {"mlp.down_proj", "ffn_down"},
        {"input_layernorm", "attn_norm"},      {"post_attention_layernorm", "ffn_norm"},
    };
    const std::string prefix = "model.layers.";
    if (hf.rfind(prefix, 0) != 0) throw std::runtime_error("unmapped tensor " + hf);
    const size_t dot = hf.find('.', prefix.size());
    const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
    const std::string rest = hf.substr(dot + 1);
    const size_t last = rest.rfind('.');
    for (const auto& [from, to] : layer_names) {
        if (rest.substr(0, last) == from) return "blk." + layer + "." + to + rest.substr(last);
    }
    throw std::runtime_error("unmapped tensor " + hf);
}

// GGUF row 2i + j of each head of `head_dim` rows is HF row j·head_dim/2 + i.
inline std::string permute_rows(const std::string& hf, int64_t n_rows, int64_t head_dim) {
    const size_t row_bytes = hf.size() / static_cast<size_t>(n_rows);
    const int64_t half = head_dim / 2;
    std::string out(hf.size(), '\0');
    for (int64_t head = 0; head < n_rows / head_dim; ++head) {
        for (int64_t i = 0; i < half; ++i) {
            for (int64_t j = 0; j < 2; ++j) {
                const int64_t to = head * head_dim + 2 * i + j, from = head * head_dim + j * half + i;
                std::memcpy(&out[size_t(to) * row_bytes], &hf[size_t(from) * row_bytes], row_bytes);
            }
        }
    }
    return out;
}

inline std::string to_f32_bytes(const olm::tensor_view& t) {
    const int64_t n = t.bytes / olm::dtype_size(t.type);
    std::string out;
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = static_cast<const uint16_t*>(t.data)[i];
        float f = 0;
        if (t.type == olm::dtype::f32) {
            f = static_cast<const float*>(t.data)[i];
        } else if (t.type == olm::dtype::f16) {
            f = _cvtsh_ss(h);
        } else {
            const uint32_t bits = uint32_t(h) << 16;
            std::memcpy(&f, &bits, 4);
        }
        put_f32(out, f);
    }
    return out;
}

struct convert_options {
    bool permute_qk = true;  // false writes llama Q/K in HF row order: a broken converter
    std::string arch;        // written as this architecture instead of the config's (llama or qwen2)
    bool add_qkv_bias = false;  // adds made-up q/k/v biases to a model that has none
    olm::dtype matrices = olm::dtype::f32;  // Q8_0 / Q4_0: every matrix quantized (quant.h), as a quantizing converter does
};

// The HF model in `dir` as a GGUF file.
inline gguf_writer gguf_from_hf(const fs::path& dir, convert_options options = {}) {
    const nlohmann::json c = nlohmann::json::parse(read_text(dir / "config.json"));
    const std::string hf_arch = c.at("architectures")[0].get<std::string>();
    std::string a = hf_arch == "Qwen2ForCausalLM" ? "qwen2" : hf_arch == "Qwen3ForCausalLM" ? "qwen3" : "llama";
    if (!options.arch.empty()) a = options.arch;
    const int32_t hidden = c.at("hidden_size"), heads = c.at("num_attention_heads");
    const int32_t head_dim = c.contains("head_dim") && !c["head_dim"].is_null() ? c["head_dim"].get<int32_t>() : hidden / heads;
    const std::string dtype = c.at("torch_dtype");

    gguf_writer w;
    w.add_string("general.architecture", a);
    w.add_string("general.name", dir.filename().string());
    w.add_u32("general.file_type", dtype == "float32" ? 0 : dtype == "float16" ? 1 : 32);
    w.add_u32(a + ".context_length", c.at("max_position_embeddings"));
    w.add_u32(a + ".embedding_length", hidden);
    w.add_u32(a + ".block_count", c.at("num_hidden_layers"));
    w.add_u32(a + ".feed_forward_length", c.at("intermediate_size"));
    w.add_u32(a + ".attention.head_count", heads);
    w.add_u32(a + ".attention.head_count_kv", c.at("num_key_value_heads"));
    w.add_u32(a + ".attention.key_length", head_dim);
    w.add_u32(a + ".attention.value_length", head_dim);
    w.add_u32(a + ".rope.dimension_count", head_dim);
    w.add_f32(a + ".attention.layer_norm_rms_epsilon", c.at("rms_norm_eps").get<float>());
    w.add_f32(a + ".rope.freq_base", c.at("rope_theta").get<float>());

    // A tokenizer the engine skips (C# reads it): arrays of strings, int32 and float32.
    const int32_t vocab = c.at("vocab_size");
    std::vector<std::string> tokens;
    for (int32_t i = 0; i < vocab; ++i) tokens.push_back("<t" + std::to_string(i) + ">");
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "default");
    w.add_string_array("tokenizer.ggml.tokens", tokens);
    w.add_i32_array("tokenizer.ggml.token_type", std::vector<int32_t>(size_t(vocab), 1));
    w.add_string_array("tokenizer.ggml.merges", {"<t4> <t5>", "<t6> <t7>"});
    w.add_u32("tokenizer.ggml.bos_token_id", c.at("bos_token_id"));
    const nlohmann::json& eos = c.at("eos_token_id");
    const std::vector<int32_t> eos_ids = eos.is_array() ? eos.get<std::vector<int32_t>>() : std::vector<int32_t>{eos.get<int32_t>()};
    const char* eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"};
    for (size_t i = 0; i < eos_ids.size(); ++i) w.add_u32(eos_keys[i], static_cast<uint32_t>(eos_ids[i]));
    w.add_string("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");

    const olm::safetensors_set set(dir.string(), olm::weight_memory::mmap);
    for (const auto& [hf, t] : set.tensors()) {
        if (hf == "lm_head.weight" && c.value("tie_word_embeddings", false)) continue;
        const std::string name = gguf_name(hf);
        std::vector<uint64_t> ne(t.shape.rbegin(), t.shape.rend());
        std::string data(static_cast<const char*>(t.data), static_cast<size_t>(t.bytes));
        uint32_t type = t.type == olm::dtype::f32 ? kF32 : t.type == olm::dtype::f16 ? kF16 : kBF16;
        if (t.shape.size() == 1 && type != kF32) {  // norms and biases are written as F32
            data = to_f32_bytes(t);
            type = kF32;
        }
        if (olm::dtype_is_quantized(options.matrices) && t.shape.size() == 2) {
            const std::string f32 = to_f32_bytes(t);
            data.assign(size_t(t.shape[0] * olm::dtype_row_bytes(options.matrices, t.shape[1])), '\0');
            olm::quantize_row(options.matrices, reinterpret_cast<const float*>(f32.data()), data.data(), t.shape[0] * t.shape[1]);
            type = options.matrices == olm::dtype::q8_0 ? kQ8_0 : kQ4_0;
        }
        const bool q_or_k = name.find(".attn_q.") != std::string::npos || name.find(".attn_k.") != std::string::npos;
        if (a == "llama" && q_or_k && options.permute_qk) data = permute_rows(data, t.shape[0], head_dim);
        w.add_tensor(name, type, ne, data);
    }

    // llama3 rope scaling: the factor that divides each frequency, from the rule in docs/GGUF.md.
    if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) {
        const nlohmann::json& s = c["rope_scaling"];
        const double factor = s.at("factor"), low = s.at("low_freq_factor"), high = s.at("high_freq_factor");
        const double original_max = s.at("original_max_position_embeddings");
        const double theta = c.at("rope_theta");
        std::string factors;
        for (int32_t i = 0; i < head_dim / 2; ++i) {
            const double inv_freq = 1.0 / std::pow(theta, 2.0 * i / head_dim);
            const double wavelen = 2 * M_PI / inv_freq;
            double f = 1;
            if (wavelen > original_max / low) {
                f = factor;
            } else if (wavelen >= original_max / high) {
                const double smooth = (original_max / wavelen - low) / (high - low);
                f = 1 / ((1 - smooth) / factor + smooth);
            }
            put_f32(factors, static_cast<float>(f));
        }
        w.add_tensor("rope_freqs.weight", kF32, {uint64_t(head_dim / 2)}, factors);
    }

    if (options.add_qkv_bias) {
        const int64_t q_dim = int64_t(heads) * head_dim, kv_dim = c.at("num_key_value_heads").get<int64_t>() * head_dim;
        for (int32_t layer = 0; layer < c.at("num_hidden_layers").get<int32_t>(); ++layer) {
            for (const char* name : {"attn_q", "attn_k", "attn_v"}) {
                const int64_t n = name == std::string("attn_q") ? q_dim : kv_dim;
                std::string bias;  // distinct values in HF row order: any reordering shows
                for (int64_t r = 0; r < n; ++r) put_f32(bias, 0.05f * float((r * 7 + layer) % 13) - 0.3f);
                if (a == "llama" && name != std::string("attn_v")) bias = permute_rows(bias, n, head_dim);
                w.add_tensor("blk." + std::to_string(layer) + "." + name + ".bias", kF32, {uint64_t(n)}, bias);
            }
        }
    }
    return w;
}

}  // namespace gguf_test
