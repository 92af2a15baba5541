#include "model-config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "gguf.h"
#include "status.h"

namespace olm {

using json = nlohmann::json;

namespace {

struct config_reader {
    const json& j;
    std::string path;

    [[noreturn]] void fail(int32_t status, const std::string& what) const { throw error(status, path + ": " + what); }

    int32_t required_int(const char* key) const {
        if (!j.contains(key) || !j[key].is_number_integer()) fail(ORLEANSLLM_ERR_FORMAT, std::string("missing or non-integer '") + key + "'");
        int64_t v = j[key].get<int64_t>();
        if (v <= 0 || v > INT32_MAX) fail(ORLEANSLLM_ERR_FORMAT, std::string("'") + key + "' must be a positive 32-bit integer");
        return static_cast<int32_t>(v);
    }
    int32_t optional_int(const char* key, int32_t fallback) const {
        if (!j.contains(key) || j[key].is_null()) return fallback;
        if (!j[key].is_number_integer()) fail(ORLEANSLLM_ERR_FORMAT, std::string("'") + key + "' must be an integer");
        return j[key].get<int32_t>();
    }
    double optional_number(const char* key, double fallback) const {
        if (!j.contains(key) || j[key].is_null()) return fallback;
        if (!j[key].is_number()) fail(ORLEANSLLM_ERR_FORMAT, std::string("'") + key + "' must be a number");
        return j[key].get<double>();
    }
    bool optional_bool(const char* key, bool fallback) const {
        if (!j.contains(key) || j[key].is_null()) return fallback;
        if (!j[key].is_boolean()) fail(ORLEANSLLM_ERR_FORMAT, std::string("'") + key + "' must be true or false");
        return j[key].get<bool>();
    }
};

arch parse_architecture(const config_reader& r, std::string& name) {
    if (!r.j.contains("architectures") || !r.j["architectures"].is_array() || r.j["architectures"].empty() ||
        !r.j["architectures"][0].is_string()) {
        r.fail(ORLEANSLLM_ERR_FORMAT, "missing 'architectures'");
    }
    name = r.j["architectures"][0].get<std::string>();
    if (name == "LlamaForCausalLM") return arch::llama;
    if (name == "MistralForCausalLM") return arch::mistral;
    if (name == "Qwen2ForCausalLM") return arch::qwen2;
    if (name == "Qwen3ForCausalLM") return arch::qwen3;
    r.fail(ORLEANSLLM_ERR_UNSUPPORTED, "unsupported architecture " + name +
                                           " (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)");
}

void parse_rope(const config_reader& r, model_config& c) {
    c.rope.theta = static_cast<float>(r.optional_number("rope_theta", 10000.0));
    if (!r.j.contains("rope_scaling") || r.j["rope_scaling"].is_null()) return;
    const json& s = r.j["rope_scaling"];
    if (!s.is_object()) r.fail(ORLEANSLLM_ERR_FORMAT, "'rope_scaling' must be an object or null");
    if (!s.contains("rope_type") && !s.contains("type")) r.fail(ORLEANSLLM_ERR_FORMAT, "'rope_scaling' has neither 'rope_type' nor 'type'");
    const std::string type = s.contains("rope_type") ? s["rope_type"].get<std::string>() : s["type"].get<std::string>();
    if (type == "default") return;
    if (type != "llama3") {
        r.fail(ORLEANSLLM_ERR_UNSUPPORTED, "unsupported rope_scaling type '" + type + "' (supported: default, llama3)");
    }
    // Like the reference implementation, every llama3 key is required: a default would silently
    // change the frequencies.
    for (const char* key : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
        if (!s.contains(key) || !s[key].is_number()) r.fail(ORLEANSLLM_ERR_FORMAT, std::string("rope_scaling llama3 is missing '") + key + "'");
    }
    config_reader sr{s, r.path + " rope_scaling"};
    c.rope.llama3_scaling = true;
    c.rope.factor = static_cast<float>(sr.optional_number("factor", 0.0));
    c.rope.low_freq_factor = static_cast<float>(sr.optional_number("low_freq_factor", 0.0));
    c.rope.high_freq_factor = static_cast<float>(sr.optional_number("high_freq_factor", 0.0));
    c.rope.original_max_positions = sr.optional_int("original_max_position_embeddings", 0);
    if (c.rope.factor <= 0 || c.rope.high_freq_factor <= c.rope.low_freq_factor || c.rope.original_max_positions <= 0) {
        r.fail(ORLEANSLLM_ERR_FORMAT, "rope_scaling llama3 needs factor > 0 and high_freq_factor > low_freq_factor");
    }
}

void parse_token_ids(const config_reader& r, model_config& c) {
    c.bos_token_id = r.optional_int("bos_token_id", -1);
    if (!r.j.contains("eos_token_id") || r.j["eos_token_id"].is_null()) return;
    const json& e = r.j["eos_token_id"];
    if (e.is_number_integer()) {
        c.eos_token_ids.push_back(e.get<int32_t>());
    } else if (e.is_array()) {
        for (const auto& v : e) c.eos_token_ids.push_back(v.get<int32_t>());
    } else {
        r.fail(ORLEANSLLM_ERR_FORMAT, "'eos_token_id' must be an integer or a list");
    }
}

// The head counts and head size the forward supports; `heads` and `kv_heads` are the keys to name.
void check_attention_shape(const model_config& c, const std::string& path, const std::string& heads, const std::string& kv_heads) {
    if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0) {
        throw error(ORLEANSLLM_ERR_FORMAT, path + ": " + heads + " must be a multiple of " + kv_heads);
    }
    if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 512) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED, path + ": head_dim " + std::to_string(c.head_dim) + " is not supported (even, at most 512)");
    }
}

}  // namespace

model_config load_model_config(const std::string& model_dir) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(model_dir)) throw error(ORLEANSLLM_ERR_IO, "model directory not found: " + model_dir);
    fs::path path = fs::path(model_dir) / "config.json";
    std::ifstream in(path);
    if (!in) throw error(ORLEANSLLM_ERR_IO, "cannot open " + path.string());
    json j;
    try {
        j = json::parse(in);
    } catch (const std::exception& e) {
        throw error(ORLEANSLLM_ERR_FORMAT, path.string() + ": malformed JSON: " + e.what());
    }
    if (!j.is_object()) throw error(ORLEANSLLM_ERR_FORMAT, path.string() + ": not a JSON object");
    config_reader r{j, path.string()};
    try {
        model_config c;
        c.architecture = parse_architecture(r, c.architecture_name);
        c.vocab_size = r.required_int("vocab_size");
        c.hidden_size = r.required_int("hidden_size");
        c.intermediate_size = r.required_int("intermediate_size");
        c.n_layers = r.required_int("num_hidden_layers");
        c.n_heads = r.required_int("num_attention_heads");
        c.n_kv_heads = r.optional_int("num_key_value_heads", c.n_heads);
        c.head_dim = r.optional_int("head_dim", c.hidden_size / c.n_heads);
        c.max_position_embeddings = r.optional_int("max_position_embeddings", 2048);
        c.rms_norm_eps = static_cast<float>(r.optional_number("rms_norm_eps", 1e-6));
        c.tie_word_embeddings = r.optional_bool("tie_word_embeddings", false);
        check_attention_shape(c, path.string(), "num_attention_heads", "num_key_value_heads");
        std::string act = j.contains("hidden_act") && j["hidden_act"].is_string() ? j["hidden_act"].get<std::string>() : "silu";
        if (act != "silu") r.fail(ORLEANSLLM_ERR_UNSUPPORTED, "hidden_act '" + act + "' is not supported (silu only)");
        if (r.optional_bool("mlp_bias", false)) r.fail(ORLEANSLLM_ERR_UNSUPPORTED, "mlp_bias true is not supported");
        parse_rope(r, c);
        parse_token_ids(r, c);

        const bool attention_bias = r.optional_bool("attention_bias", false);
        switch (c.architecture) {
            case arch::llama:
            case arch::mistral:
                c.qkv_bias = attention_bias;
                c.o_bias = attention_bias;
                break;
            case arch::qwen2:
                c.qkv_bias = true;
                break;
            case arch::qwen3:
                c.qkv_bias = attention_bias;
                c.o_bias = attention_bias;
                c.qk_norm = true;
                break;
        }
        // Sliding-window attention narrower than the context would change results; refuse it
        // rather than silently attending to the full context.
        // Mistral windows every layer; Qwen2/3 window the layers at or above max_window_layers
        // when use_sliding_window is set.
        bool sliding_enabled = c.architecture == arch::mistral;
        if (c.architecture == arch::qwen2 || c.architecture == arch::qwen3) {
            sliding_enabled = r.optional_bool("use_sliding_window", false) && r.optional_int("max_window_layers", 0) < c.n_layers;
        }
        const int32_t window = r.optional_int("sliding_window", 0);
        if (sliding_enabled && window > 0 && window < c.max_position_embeddings) {
            r.fail(ORLEANSLLM_ERR_UNSUPPORTED, "sliding_window " + std::to_string(window) +
                                                   " is narrower than max_position_embeddings " +
                                                   std::to_string(c.max_position_embeddings) + "; sliding-window attention is not supported");
        }
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw error(ORLEANSLLM_ERR_FORMAT, path.string() + ": malformed value: " + e.what());
    }
}

model_config load_gguf_model_config(const gguf_file& file) {
    const std::string& path = file.path();
    auto fail = [&](int32_t status, const std::string& what) { throw error(status, path + ": " + what); };
    model_config c;
    const std::optional<std::string> name = file.get_string("general.architecture");
    if (!name) fail(ORLEANSLLM_ERR_FORMAT, "missing metadata key 'general.architecture'");
    c.architecture_name = *name;
    if (*name == "llama") {
        c.architecture = arch::llama;  // Mistral checkpoints too: llama.cpp's converter writes them as llama
    } else if (*name == "qwen2") {
        c.architecture = arch::qwen2;
    } else if (*name == "qwen3") {
        c.architecture = arch::qwen3;
    } else {
        fail(ORLEANSLLM_ERR_UNSUPPORTED, "unsupported GGUF architecture '" + *name + "' (supported: llama, qwen2, qwen3)");
    }
    const std::string a = *name + ".";
    auto optional_int = [&](const std::string& key, int32_t fallback) {
        const std::optional<int64_t> v = file.get_int(key);
        if (!v) return fallback;
        if (*v <= 0 || *v > INT32_MAX) fail(ORLEANSLLM_ERR_FORMAT, "metadata key '" + key + "' must be a positive 32-bit integer");
        return static_cast<int32_t>(*v);
    };
    auto required_int = [&](const std::string& key) {
        if (file.find_value(key) == nullptr) fail(ORLEANSLLM_ERR_FORMAT, "missing metadata key '" + key + "'");
        return optional_int(key, 0);
    };

    c.hidden_size = required_int(a + "embedding_length");
    c.n_layers = required_int(a + "block_count");
    c.intermediate_size = required_int(a + "feed_forward_length");
    c.n_heads = required_int(a + "attention.head_count");
    c.n_kv_heads = optional_int(a + "attention.head_count_kv", c.n_heads);
    c.head_dim = optional_int(a + "attention.key_length", c.hidden_size / c.n_heads);
    if (optional_int(a + "attention.value_length", c.head_dim) != c.head_dim) {
        fail(ORLEANSLLM_ERR_UNSUPPORTED, "attention.value_length differs from attention.key_length");
    }
    if (optional_int(a + "rope.dimension_count", c.head_dim) != c.head_dim) {
        fail(ORLEANSLLM_ERR_UNSUPPORTED, "rope.dimension_count differs from the head size (partial rotary embeddings)");
    }
    c.max_position_embeddings = required_int(a + "context_length");
    const std::optional<double> eps = file.get_number(a + "attention.layer_norm_rms_epsilon");
    if (!eps) fail(ORLEANSLLM_ERR_FORMAT, "missing metadata key '" + a + "attention.layer_norm_rms_epsilon'");
    c.rms_norm_eps = static_cast<float>(*eps);
    c.rope.theta = static_cast<float>(file.get_number(a + "rope.freq_base").value_or(10000.0));
    check_attention_shape(c, path, "attention.head_count", "attention.head_count_kv");

    // What this engine does not run is refused rather than ignored.
    const std::string scaling = file.get_string(a + "rope.scaling.type").value_or("none");
    if (scaling != "none") fail(ORLEANSLLM_ERR_UNSUPPORTED, "rope scaling type '" + scaling + "' is not supported");
    if (file.get_int(a + "expert_count").value_or(0) > 0) {
        fail(ORLEANSLLM_ERR_UNSUPPORTED, "mixture-of-experts models (" + a + "expert_count) are not supported");
    }

    const tensor_view* embed = file.find("token_embd.weight");
    if (embed == nullptr || embed->shape.size() != 2 || embed->shape[0] <= 0 || embed->shape[0] > INT32_MAX) {
        fail(ORLEANSLLM_ERR_FORMAT, "missing tensor 'token_embd.weight' (or it is not a [vocab, hidden] matrix)");
    }
    c.vocab_size = static_cast<int32_t>(embed->shape[0]);
    if (optional_int(a + "vocab_size", c.vocab_size) != c.vocab_size) {
        fail(ORLEANSLLM_ERR_FORMAT, a + "vocab_size differs from the rows of token_embd.weight (" + std::to_string(c.vocab_size) + ")");
    }
    c.tie_word_embeddings = file.find("output.weight") == nullptr;
    c.qkv_bias = file.find("blk.0.attn_q.bias") != nullptr;
    c.o_bias = file.find("blk.0.attn_output.bias") != nullptr;
    c.qk_norm = c.architecture == arch::qwen3;

    auto token_id = [&](const std::string& key) {
        const std::optional<int64_t> v = file.get_int(key);
        if (v && (*v < 0 || *v >= c.vocab_size)) fail(ORLEANSLLM_ERR_FORMAT, "metadata key '" + key + "' is not a token id");
        return v ? static_cast<int32_t>(*v) : -1;
    };
    c.bos_token_id = token_id("tokenizer.ggml.bos_token_id");
    for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
        const int32_t id = token_id(key);
        if (id >= 0 && std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), id) == c.eos_token_ids.end()) {
            c.eos_token_ids.push_back(id);
        }
    }
    return c;
}

}  // namespace olm
