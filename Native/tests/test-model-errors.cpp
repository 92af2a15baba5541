// test-model-errors.cpp: every way a model directory or an eval call can be wrong gets a status
// code and a message naming the file, tensor or option, never a crash.
//
// Each case copies a golden model (tests/golden/) into a temp dir and breaks one thing.
#include "orleansllm.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path golden_root = fs::path(OLM_REPO_ROOT) / "tests" / "golden";

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

nlohmann::ordered_json read_json(const fs::path& path) {
    return nlohmann::ordered_json::parse(read_text(path));
}

void write_json(const fs::path& path, const nlohmann::ordered_json& j) {
    write_text(path, j.dump(2));
}

// A safetensors file held in memory: JSON header and the data section after it.
struct safetensors_file {
    nlohmann::ordered_json header;
    std::string data;

    static safetensors_file read(const fs::path& path) {
        const std::string bytes = read_text(path);
        uint64_t header_len = 0;
        std::memcpy(&header_len, bytes.data(), 8);  // little-endian on x86-64
        safetensors_file f;
        f.header = nlohmann::ordered_json::parse(bytes.substr(8, header_len));
        f.data = bytes.substr(8 + header_len);
        return f;
    }

    void write(const fs::path& path) const {
        std::string text = header.dump();
        text.append((8 - text.size() % 8) % 8, ' ');
        const uint64_t header_len = text.size();
        std::string bytes(reinterpret_cast<const char*>(&header_len), 8);
        write_text(path, bytes + text + data);
    }

    std::string tensor_bytes(const std::string& name) const {
        const auto& offsets = header.at(name).at("data_offsets");
        const size_t begin = offsets[0].get<size_t>(), end = offsets[1].get<size_t>();
        return data.substr(begin, end - begin);
    }

    // Replaces (or with keep=false removes) one tensor and lays the data out again.
    void set_tensor(const std::string& name, const std::string& dtype,
                    const std::vector<int64_t>& shape, const std::string& bytes,
                    bool keep = true) {
        nlohmann::ordered_json new_header;
        std::string new_data;
        for (const auto& [key, info] : header.items()) {
            if (key == "__metadata__") {
                new_header[key] = info;
                continue;
            }
            if (key == name && !keep) continue;
            nlohmann::ordered_json entry = info;
            std::string raw = tensor_bytes(key);
            if (key == name) {
                entry["dtype"] = dtype;
                entry["shape"] = shape;
                raw = bytes;
            }
            entry["data_offsets"] = {new_data.size(), new_data.size() + raw.size()};
            new_data += raw;
            new_header[key] = entry;
        }
        header = std::move(new_header);
        data = std::move(new_data);
    }

    void remove_tensor(const std::string& name) { set_tensor(name, "", {}, "", false); }
};

struct load_result {
    int32_t status;
    std::string message;
};

load_result try_load(const fs::path& dir) {
    orleansllm_model* model = nullptr;
    const std::string path = dir.string();
    const int32_t rc = orleansllm_model_load(path.c_str(), orleansllm_model_default_params(),
                                             &model);
    load_result r{rc, orleansllm_last_error()};
    if (rc != ORLEANSLLM_OK) {
        EXPECT_EQ(model, nullptr) << "a failed load handed out a model";
    }
    orleansllm_model_free(model);
    return r;
}

// Loads `dir` and expects `status` with a message containing every one of `needles`.
void expect_load_error(const fs::path& dir, int32_t status,
                       const std::vector<std::string>& needles) {
    const load_result r = try_load(dir);
    std::printf("[model-errors] %-40s -> %s: %s\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                orleansllm_status_name(r.status), r.message.c_str());
    EXPECT_EQ(r.status, status) << "got " << orleansllm_status_name(r.status) << " expected "
                                << orleansllm_status_name(status) << ": " << r.message;
    EXPECT_FALSE(r.message.empty());
    for (const auto& needle : needles) {
        EXPECT_NE(r.message.find(needle), std::string::npos)
            << "message does not name '" << needle << "': " << r.message;
    }
}

// |a - b|, with NaN counted as an infinite error.
double abs_error(float a, float b) {
    const double d = std::fabs(static_cast<double>(a) - b);
    return std::isnan(d) ? INFINITY : d;
}

// Worst max|Δlogit| / max|logit| over the prompts of tests/golden/<fixture>/golden.json when
// the model in `dir` evaluates them; +inf when it cannot be loaded or evaluated.
double ratio_to_golden(const fs::path& dir, const std::string& fixture) {
    const auto golden = nlohmann::json::parse(read_text(golden_root / fixture / "golden.json"));
    orleansllm_model* model = nullptr;
    orleansllm_context* context = nullptr;
    if (orleansllm_model_load(dir.string().c_str(), orleansllm_model_default_params(), &model) !=
            ORLEANSLLM_OK ||
        orleansllm_context_init(model, orleansllm_context_default_params(), &context) !=
            ORLEANSLLM_OK) {
        ADD_FAILURE() << orleansllm_last_error();
        orleansllm_model_free(model);
        return INFINITY;
    }
    double worst = 0;
    for (size_t p = 0; p < golden.at("prompts").size(); p++) {
        const auto tokens = golden.at("prompts")[p].get<std::vector<int32_t>>();
        std::vector<float> want;
        for (const auto& row : golden.at("logits")[p]) {
            for (const auto& v : row) want.push_back(v.get<float>());
        }
        std::vector<float> got(want.size());
        orleansllm_context_reset(context);
        if (orleansllm_context_eval(context, tokens.data(), static_cast<int32_t>(tokens.size()), 1,
                                    got.data()) != ORLEANSLLM_OK) {
            worst = INFINITY;
            break;
        }
        double scale = 0, diff = 0;
        for (size_t i = 0; i < want.size(); i++) {
            scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
            diff = std::max(diff, abs_error(got[i], want[i]));
        }
        worst = std::max(worst, diff / scale);
    }
    orleansllm_context_free(context);
    orleansllm_model_free(model);
    return worst;
}

class model_errors : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "olm-model-errors-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }

    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // A fresh copy of tests/golden/<name> under the temp dir.
    fs::path copy_of(const std::string& name) {
        const fs::path dst = root_ / name;
        fs::copy(golden_root / name, dst, fs::copy_options::recursive);
        fs::remove(dst / "golden.json");
        return dst;
    }

    fs::path root_;
};

// --- directory and config.json ----------------------------------------------------------------

TEST_F(model_errors, missing_directory) {
    expect_load_error(root_ / "no-such-model", ORLEANSLLM_ERR_IO, {"no-such-model"});
}

// Each value, written into the load parameters by `set`, fails the load with
// ORLEANSLLM_ERR_INVALID_ARGUMENT and a message naming `field`; no model is returned.
void expect_invalid_param(const fs::path& dir, const char* field, std::initializer_list<int32_t> values,
                          void (*set)(orleansllm_model_params&, int32_t)) {
    for (const int32_t value : values) {
        orleansllm_model_params params = orleansllm_model_default_params();
        set(params, value);
        orleansllm_model* model = nullptr;
        EXPECT_EQ(orleansllm_model_load(dir.string().c_str(), params, &model), ORLEANSLLM_ERR_INVALID_ARGUMENT)
            << field << " = " << value << ": " << orleansllm_last_error();
        EXPECT_NE(std::string(orleansllm_last_error()).find(field), std::string::npos);
        EXPECT_EQ(model, nullptr);
        orleansllm_model_free(model);
    }
}

TEST_F(model_errors, use_mmap_not_a_flag) {
    expect_invalid_param(copy_of("llama"), "use_mmap", {-1, 2}, [](orleansllm_model_params& p, int32_t v) { p.use_mmap = v; });
}

TEST_F(model_errors, thread_count_out_of_range) {
    expect_invalid_param(copy_of("llama"), "n_threads", {-1, 1000000},
                         [](orleansllm_model_params& p, int32_t v) { p.n_threads = v; });
}

TEST_F(model_errors, null_arguments) {
    orleansllm_model* model = nullptr;
    EXPECT_EQ(orleansllm_model_load(nullptr, orleansllm_model_default_params(), &model),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(model, nullptr);
    const fs::path dir = copy_of("llama");
    EXPECT_EQ(orleansllm_model_load(dir.string().c_str(), orleansllm_model_default_params(),
                                    nullptr),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
}

TEST_F(model_errors, missing_config) {
    const fs::path dir = copy_of("llama");
    fs::remove(dir / "config.json");
    expect_load_error(dir, ORLEANSLLM_ERR_IO, {"config.json"});
}

TEST_F(model_errors, model_dir_is_a_file) {
    const fs::path file = root_ / "not-a-directory";
    write_text(file, "hello");
    expect_load_error(file, ORLEANSLLM_ERR_IO, {"not-a-directory"});
}

TEST_F(model_errors, config_not_an_object) {
    const fs::path dir = copy_of("llama");
    write_text(dir / "config.json", "[1, 2, 3]");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json"});
}

TEST_F(model_errors, malformed_config) {
    const fs::path dir = copy_of("llama");
    const std::string text = read_text(dir / "config.json");
    write_text(dir / "config.json", text.substr(0, text.size() / 2));
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json"});
}

TEST_F(model_errors, config_missing_key) {
    const fs::path dir = copy_of("llama");
    auto config = read_json(dir / "config.json");
    config.erase("hidden_size");
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json", "hidden_size"});
}

TEST_F(model_errors, config_key_of_wrong_type) {
    const fs::path dir = copy_of("llama");
    auto config = read_json(dir / "config.json");
    config["num_hidden_layers"] = "two";
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json", "num_hidden_layers"});
}

TEST_F(model_errors, config_zero_heads) {
    const fs::path dir = copy_of("llama");
    auto config = read_json(dir / "config.json");
    config["num_attention_heads"] = 0;
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json", "num_attention_heads"});
}

TEST_F(model_errors, config_kv_heads_not_dividing_heads) {
    const fs::path dir = copy_of("llama");  // 4 heads
    auto config = read_json(dir / "config.json");
    config["num_key_value_heads"] = 3;
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"config.json", "num_key_value_heads"});
}

TEST_F(model_errors, config_odd_head_dim) {
    const fs::path dir = copy_of("llama_head_dim");  // head_dim 24
    auto config = read_json(dir / "config.json");
    config["head_dim"] = 23;  // RoPE rotates pairs: an odd head_dim cannot be right
    write_json(dir / "config.json", config);
    const load_result r = try_load(dir);
    EXPECT_TRUE(r.status == ORLEANSLLM_ERR_FORMAT || r.status == ORLEANSLLM_ERR_UNSUPPORTED)
        << orleansllm_status_name(r.status) << ": " << r.message;
    EXPECT_NE(r.message.find("head_dim"), std::string::npos) << r.message;
}

TEST_F(model_errors, config_huge_vocab_fails_fast) {
    const fs::path dir = copy_of("llama");
    auto config = read_json(dir / "config.json");
    config["vocab_size"] = 2000000000;  // disagrees with the embedding; must not allocate for it
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.embed_tokens.weight"});
}

TEST_F(model_errors, llama3_rope_scaling_missing_key) {
    // HF requires every key of a llama3 rope_scaling (and a type); a guess gives wrong logits.
    std::vector<std::string> accepted;
    for (const char* key : {"factor", "low_freq_factor", "high_freq_factor",
                            "original_max_position_embeddings", "rope_type"}) {
        const fs::path dir = copy_of("llama3");
        auto config = read_json(dir / "config.json");
        config["rope_scaling"].erase(key);
        write_json(dir / "config.json", config);
        const load_result r = try_load(dir);
        fs::remove_all(dir);
        if (r.status == ORLEANSLLM_OK) {
            accepted.push_back(key);
            continue;
        }
        EXPECT_EQ(r.status, ORLEANSLLM_ERR_FORMAT) << key << ": " << r.message;
        EXPECT_NE(r.message.find(key == std::string("rope_type") ? "rope_scaling" : key),
                  std::string::npos)
            << r.message;
    }
    std::string keys;
    for (const auto& k : accepted) keys += " " + k;
    EXPECT_TRUE(accepted.empty()) << "engine accepts llama3 rope_scaling without:" << keys;
}

TEST_F(model_errors, rope_scaling_legacy_type_key_loads) {
    const fs::path dir = copy_of("llama3");
    auto config = read_json(dir / "config.json");
    auto& scaling = config["rope_scaling"];
    scaling["type"] = scaling["rope_type"];  // the older spelling HF still reads
    scaling.erase("rope_type");
    write_json(dir / "config.json", config);
    EXPECT_LT(ratio_to_golden(dir, "llama3"), 1e-4);  // the scaling is applied, not dropped
}

TEST_F(model_errors, unsupported_architecture) {
    const fs::path dir = copy_of("llama");
    auto config = read_json(dir / "config.json");
    config["architectures"] = {"GPT2LMHeadModel"};
    config["model_type"] = "gpt2";
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {"GPT2LMHeadModel"});
}

TEST_F(model_errors, qwen2_sliding_window_narrower_than_context) {
    const fs::path dir = copy_of("qwen2");  // sliding_window 16, max_position_embeddings 512
    auto config = read_json(dir / "config.json");
    config["use_sliding_window"] = true;
    config["max_window_layers"] = 0;  // HF windows layers i >= max_window_layers: all of them
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {"sliding_window"});
}

TEST_F(model_errors, mistral_sliding_window_narrower_than_context) {
    const fs::path dir = copy_of("mistral");  // max_position_embeddings 512
    auto config = read_json(dir / "config.json");
    config["sliding_window"] = 64;
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {"sliding_window"});
}

TEST_F(model_errors, mistral_sliding_window_covering_context_loads) {
    const fs::path dir = copy_of("mistral");
    auto config = read_json(dir / "config.json");
    config["sliding_window"] = 4096;  // wider than max_position_embeddings: full attention
    write_json(dir / "config.json", config);
    EXPECT_LT(ratio_to_golden(dir, "mistral"), 1e-4);
}

TEST_F(model_errors, unknown_rope_scaling_type) {
    const fs::path dir = copy_of("llama3");
    auto config = read_json(dir / "config.json");
    config["rope_scaling"] = {{"rope_type", "no-such-scaling"}, {"factor", 2.0}};
    write_json(dir / "config.json", config);
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {"no-such-scaling"});
}

// --- safetensors files ------------------------------------------------------------------------

TEST_F(model_errors, missing_safetensors) {
    const fs::path dir = copy_of("llama");
    fs::remove(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_IO, {"safetensors", dir.filename().string()});
}

TEST_F(model_errors, empty_safetensors) {
    const fs::path dir = copy_of("llama");
    write_text(dir / "model.safetensors", "");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, header_length_beyond_file) {
    const fs::path dir = copy_of("llama");
    std::string bytes = read_text(dir / "model.safetensors");
    const uint64_t header_len = bytes.size() + 100;
    std::memcpy(bytes.data(), &header_len, 8);
    write_text(dir / "model.safetensors", bytes);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, huge_header_length) {
    const fs::path dir = copy_of("llama");
    std::string bytes = read_text(dir / "model.safetensors");
    const uint64_t header_len = ~uint64_t{0} - 4;  // overflows 8 + header_len
    std::memcpy(bytes.data(), &header_len, 8);
    write_text(dir / "model.safetensors", bytes);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, corrupt_json_header) {
    const fs::path dir = copy_of("llama");
    std::string bytes = read_text(dir / "model.safetensors");
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    for (uint64_t i = 8 + header_len / 3; i < 8 + header_len / 2; i++) bytes[i] = '#';
    write_text(dir / "model.safetensors", bytes);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, header_entry_of_wrong_type) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    st.header["model.norm.weight"]["data_offsets"] = "everywhere";
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.norm.weight"});
}

TEST_F(model_errors, header_not_an_object) {
    const fs::path dir = copy_of("llama");
    const std::string text = "[1,2,3] ";
    const uint64_t header_len = text.size();
    write_text(dir / "model.safetensors",
               std::string(reinterpret_cast<const char*>(&header_len), 8) + text);
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, data_offsets_reversed) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.0.mlp.up_proj.weight";
    auto& offsets = st.header[name]["data_offsets"];
    offsets = {offsets[1], offsets[0]};
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, shape_whose_size_overflows) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    // 2^32 * 2^32 * 4 bytes wraps a 64-bit size to 0, matching empty data_offsets.
    const std::string name = "model.layers.0.post_attention_layernorm.weight";
    st.set_tensor(name, "F32", {int64_t{1} << 32, int64_t{1} << 32}, "");
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, negative_dimension) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.norm.weight";
    st.header[name]["shape"] = {-64};
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, data_offsets_beyond_file) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.1.mlp.down_proj.weight";
    const size_t n = st.tensor_bytes(name).size();
    st.header[name]["data_offsets"] = {st.data.size(), st.data.size() + n};
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, data_section_truncated) {
    const fs::path dir = copy_of("llama");
    const std::string bytes = read_text(dir / "model.safetensors");
    write_text(dir / "model.safetensors", bytes.substr(0, bytes.size() - 1000));
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors"});
}

TEST_F(model_errors, data_offsets_disagree_with_shape) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.0.self_attn.o_proj.weight";
    auto& offsets = st.header[name]["data_offsets"];
    offsets[1] = offsets[1].get<size_t>() - 4;  // one float short of its shape
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, tensor_with_wrong_shape) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.0.self_attn.k_proj.weight";  // [2 * 16, 64]
    const std::string bytes = st.tensor_bytes(name);
    st.set_tensor(name, "F32", {64, 32}, bytes);  // same bytes, transposed shape
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, embedding_with_wrong_vocab) {
    const fs::path dir = copy_of("llama");  // vocab 160, hidden 64
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.embed_tokens.weight";
    const std::string bytes = st.tensor_bytes(name);
    st.set_tensor(name, "F32", {80, 64}, bytes.substr(0, bytes.size() / 2));
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, tensor_with_i64_dtype) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.norm.weight";  // [64] F32 -> [64] I64
    const std::string bytes = st.tensor_bytes(name);
    st.set_tensor(name, "I64", {64}, bytes + bytes);
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {name, "I64"});
}

TEST_F(model_errors, tensor_with_f8_dtype) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.1.self_attn.q_proj.weight";  // [64, 64]
    const std::string bytes = st.tensor_bytes(name);
    st.set_tensor(name, "F8_E4M3", {64, 64}, bytes.substr(0, bytes.size() / 4));
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_UNSUPPORTED, {name, "F8_E4M3"});
}

TEST_F(model_errors, unknown_dtype_string) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.0.input_layernorm.weight";
    st.header[name]["dtype"] = "F31";
    st.write(dir / "model.safetensors");
    const load_result r = try_load(dir);
    // Not a safetensors dtype at all: malformed or unsupported are both honest answers.
    EXPECT_TRUE(r.status == ORLEANSLLM_ERR_FORMAT || r.status == ORLEANSLLM_ERR_UNSUPPORTED)
        << orleansllm_status_name(r.status) << ": " << r.message;
    EXPECT_NE(r.message.find(name), std::string::npos) << r.message;
}

TEST_F(model_errors, missing_tensor) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.1.self_attn.k_proj.weight";
    st.remove_tensor(name);
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, missing_lm_head_when_untied) {
    const fs::path dir = copy_of("llama");
    auto st = safetensors_file::read(dir / "model.safetensors");
    st.remove_tensor("lm_head.weight");
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"lm_head.weight"});
}

TEST_F(model_errors, missing_qwen2_bias) {
    const fs::path dir = copy_of("qwen2");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.1.self_attn.v_proj.bias";
    st.remove_tensor(name);
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

TEST_F(model_errors, missing_qwen3_q_norm) {
    const fs::path dir = copy_of("qwen3");
    auto st = safetensors_file::read(dir / "model.safetensors");
    const std::string name = "model.layers.0.self_attn.q_norm.weight";
    st.remove_tensor(name);
    st.write(dir / "model.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {name});
}

// --- sharded checkpoints ----------------------------------------------------------------------

TEST_F(model_errors, index_names_missing_shard) {
    const fs::path dir = copy_of("sharded");
    auto index = read_json(dir / "model.safetensors.index.json");
    for (auto& [tensor, file] : index["weight_map"].items()) {
        if (file == "model-00002-of-00002.safetensors") file = "model-00003-of-00003.safetensors";
    }
    write_json(dir / "model.safetensors.index.json", index);
    expect_load_error(dir, ORLEANSLLM_ERR_IO, {"model-00003-of-00003.safetensors"});
}

TEST_F(model_errors, shard_file_deleted) {
    const fs::path dir = copy_of("sharded");
    fs::remove(dir / "model-00002-of-00002.safetensors");
    expect_load_error(dir, ORLEANSLLM_ERR_IO, {"model-00002-of-00002.safetensors"});
}

TEST_F(model_errors, malformed_index) {
    const fs::path dir = copy_of("sharded");
    write_text(dir / "model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\":");
    expect_load_error(dir, ORLEANSLLM_ERR_FORMAT, {"model.safetensors.index.json"});
}

// --- context ----------------------------------------------------------------------------------

// A loaded llama fixture with its golden logits (tests/golden/llama/golden.json).
class context_errors : public ::testing::Test {
protected:
    void SetUp() override {
        const fs::path dir = golden_root / "llama";
        const auto golden = nlohmann::json::parse(read_text(dir / "golden.json"));
        tolerance_ = golden.at("tolerance").get<double>();
        prompt_ = golden.at("prompts").back().get<std::vector<int32_t>>();
        for (const auto& row : golden.at("logits").back()) {
            for (const auto& v : row) want_.push_back(v.get<float>());
        }
        ASSERT_EQ(orleansllm_model_load(dir.string().c_str(), orleansllm_model_default_params(),
                                        &model_),
                  ORLEANSLLM_OK)
            << orleansllm_last_error();
        orleansllm_model_info info{};
        ASSERT_EQ(orleansllm_model_get_info(model_, &info), ORLEANSLLM_OK);
        vocab_ = info.vocab_size;
        ASSERT_EQ(want_.size(), prompt_.size() * vocab_);
    }

    void TearDown() override {
        orleansllm_context_free(context_);
        orleansllm_model_free(model_);
    }

    void init_context(int32_t n_ctx) {
        orleansllm_context_params params = orleansllm_context_default_params();
        params.n_ctx = n_ctx;
        ASSERT_EQ(orleansllm_context_init(model_, params, &context_), ORLEANSLLM_OK)
            << orleansllm_last_error();
    }

    // Evaluates prompt_[begin, begin + n) and checks the rows against the golden logits.
    void eval_and_check(int32_t begin, int32_t n) {
        std::vector<float> out(static_cast<size_t>(n) * vocab_);
        ASSERT_EQ(orleansllm_context_eval(context_, prompt_.data() + begin, n, 1, out.data()),
                  ORLEANSLLM_OK)
            << orleansllm_last_error();
        double scale = 0, diff = 0;
        for (float v : want_) scale = std::max(scale, std::fabs(static_cast<double>(v)));
        for (size_t i = 0; i < out.size(); i++) {
            const size_t row_start = static_cast<size_t>(begin) * vocab_;
            diff = std::max(diff, abs_error(out[i], want_[row_start + i]));
        }
        EXPECT_LT(diff / scale, tolerance_) << "rows " << begin << ".." << begin + n;
    }

    orleansllm_model* model_ = nullptr;
    orleansllm_context* context_ = nullptr;
    int32_t vocab_ = 0;
    double tolerance_ = 0;
    std::vector<int32_t> prompt_;
    std::vector<float> want_;  // [prompt_.size(), vocab_]
};

TEST_F(context_errors, token_id_out_of_range) {
    init_context(0);
    std::vector<float> out(4 * static_cast<size_t>(vocab_));
    eval_and_check(0, 3);
    for (const int32_t bad : {vocab_, -1, vocab_ + 1000}) {
        const int32_t tokens[2] = {prompt_[3], bad};
        EXPECT_EQ(orleansllm_context_eval(context_, tokens, 2, 1, out.data()),
                  ORLEANSLLM_ERR_INVALID_ARGUMENT)
            << "token " << bad;
        EXPECT_NE(std::string(orleansllm_last_error()), "");
        EXPECT_EQ(orleansllm_context_n_tokens(context_), 3) << "a failed eval appended tokens";
    }
    eval_and_check(3, 5);  // the sequence goes on as if the bad calls never happened
    EXPECT_EQ(orleansllm_context_n_tokens(context_), 8);
}

TEST_F(context_errors, exceeding_n_ctx) {
    init_context(16);
    std::vector<float> out(prompt_.size() * vocab_);
    eval_and_check(0, 10);
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data() + 10, 7, 1, out.data()),
              ORLEANSLLM_ERR_CAPACITY);
    EXPECT_NE(std::string(orleansllm_last_error()), "");
    EXPECT_EQ(orleansllm_context_n_tokens(context_), 10) << "a failed eval appended tokens";
    eval_and_check(10, 6);  // exactly fills n_ctx
    EXPECT_EQ(orleansllm_context_n_tokens(context_), 16);
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data() + 16, 1, 1, out.data()),
              ORLEANSLLM_ERR_CAPACITY);
    ASSERT_EQ(orleansllm_context_reset(context_), ORLEANSLLM_OK);
    eval_and_check(0, 16);
}

TEST_F(context_errors, prompt_longer_than_n_ctx_at_once) {
    init_context(8);
    std::vector<float> out(prompt_.size() * vocab_);
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data(),
                                      static_cast<int32_t>(prompt_.size()), 1, out.data()),
              ORLEANSLLM_ERR_CAPACITY);
    EXPECT_EQ(orleansllm_context_n_tokens(context_), 0);
    eval_and_check(0, 8);
}

TEST_F(context_errors, bad_token_arrays) {
    init_context(0);
    std::vector<float> out(static_cast<size_t>(vocab_));
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data(), -1, 1, out.data()),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data(), 0, 1, out.data()),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(orleansllm_last_error()), "");
    EXPECT_EQ(orleansllm_context_eval(context_, nullptr, 1, 1, out.data()),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(orleansllm_context_eval(context_, prompt_.data(), 1, 1, nullptr),
              ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(orleansllm_context_n_tokens(context_), 0);
    eval_and_check(0, 4);
}

TEST_F(context_errors, n_ctx_beyond_max_position_embeddings) {
    // Must fail fast, not try to allocate a KV cache for 2^31 tokens.
    for (const int32_t n_ctx : {513, INT32_MAX}) {
        orleansllm_context_params params = orleansllm_context_default_params();
        params.n_ctx = n_ctx;
        orleansllm_context* context = nullptr;
        EXPECT_EQ(orleansllm_context_init(model_, params, &context), ORLEANSLLM_ERR_CAPACITY)
            << n_ctx << ": " << orleansllm_last_error();
        EXPECT_NE(std::string(orleansllm_last_error()).find("max_position_embeddings"),
                  std::string::npos);
        EXPECT_EQ(context, nullptr);
        orleansllm_context_free(context);
    }
}

TEST_F(context_errors, negative_n_ctx) {
    orleansllm_context_params params = orleansllm_context_default_params();
    params.n_ctx = -5;
    orleansllm_context* context = nullptr;
    EXPECT_EQ(orleansllm_context_init(model_, params, &context), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(context, nullptr);
    orleansllm_context_free(context);
}

}  // namespace
