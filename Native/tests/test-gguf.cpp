// test-gguf.cpp: GGUF loading (src/gguf.cpp and the GGUF path of load_model).
//
// The files come from gguf-writer.h, written from docs/GGUF.md (not by llama.cpp):
// - every golden HF model (tests/golden/) converted to GGUF must give the logits of its
//   safetensors original bit for bit (the same stored values through the same forward), except
//   where llama3 rope scaling reaches the same frequencies by another float path (to an ulp);
// - broken files must fail with a status code and a message naming the file and the problem,
//   never a crash.
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
#include <optional>
#include <string>
#include <vector>

#include "gguf-writer.h"
#include "gguf.h"
#include "model.h"
#include "status.h"

namespace {

namespace fs = std::filesystem;
using namespace gguf_test;

const fs::path golden_root = fs::path(OLM_REPO_ROOT) / "tests" / "golden";

// --- loading and evaluating through the C API -------------------------------------------------

struct load_result {
    int32_t status;
    std::string message;
};

load_result try_load(const fs::path& path) {
    orleansllm_model* model = nullptr;
    const int32_t rc = orleansllm_model_load(path.string().c_str(), orleansllm_model_default_params(), &model);
    load_result r{rc, orleansllm_last_error()};
    if (rc != ORLEANSLLM_OK) EXPECT_EQ(model, nullptr) << "a failed load handed out a model";
    orleansllm_model_free(model);
    return r;
}

// Loads `path` and expects `status` with a message naming `path` and containing every needle.
void expect_load_error(const fs::path& path, int32_t status, const std::vector<std::string>& needles) {
    const load_result r = try_load(path);
    std::printf("[gguf] %-32s -> %s: %s\n", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                orleansllm_status_name(r.status), r.message.c_str());
    EXPECT_EQ(r.status, status) << "got " << orleansllm_status_name(r.status) << ": " << r.message;
    EXPECT_NE(r.message.find(path.filename().string()), std::string::npos) << "message does not name the file: " << r.message;
    for (const auto& needle : needles) {
        EXPECT_NE(r.message.find(needle), std::string::npos) << "message does not name '" << needle << "': " << r.message;
    }
}

// All logits of each prompt, evaluated from a fresh context; empty when loading fails.
std::vector<std::vector<float>> eval_prompts(const fs::path& path, const std::vector<std::vector<int32_t>>& prompts,
                                             int32_t use_mmap = 0) {
    orleansllm_model_params params = orleansllm_model_default_params();
    params.use_mmap = use_mmap;
    orleansllm_model* model = nullptr;
    orleansllm_context* context = nullptr;
    std::vector<std::vector<float>> out;
    if (orleansllm_model_load(path.string().c_str(), params, &model) != ORLEANSLLM_OK ||
        orleansllm_context_init(model, orleansllm_context_default_params(), &context) != ORLEANSLLM_OK) {
        ADD_FAILURE() << path << ": " << orleansllm_last_error();
        orleansllm_model_free(model);
        return out;
    }
    orleansllm_model_info info{};
    EXPECT_EQ(orleansllm_model_get_info(model, &info), ORLEANSLLM_OK);
    for (const auto& tokens : prompts) {
        std::vector<float> logits(tokens.size() * size_t(info.vocab_size), NAN);
        orleansllm_context_reset(context);
        EXPECT_EQ(orleansllm_context_eval(context, tokens.data(), int32_t(tokens.size()), 1, logits.data()), ORLEANSLLM_OK)
            << orleansllm_last_error();
        out.push_back(std::move(logits));
    }
    orleansllm_context_free(context);
    orleansllm_model_free(model);
    return out;
}

orleansllm_model_info model_info(const fs::path& path) {
    orleansllm_model* model = nullptr;
    orleansllm_model_info info{};
    EXPECT_EQ(orleansllm_model_load(path.string().c_str(), orleansllm_model_default_params(), &model), ORLEANSLLM_OK)
        << orleansllm_last_error();
    if (model != nullptr) EXPECT_EQ(orleansllm_model_get_info(model, &info), ORLEANSLLM_OK);
    orleansllm_model_free(model);
    return info;
}

std::vector<std::vector<int32_t>> golden_prompts(const std::string& fixture) {
    const auto golden = nlohmann::json::parse(read_text(golden_root / fixture / "golden.json"));
    return golden.at("prompts").get<std::vector<std::vector<int32_t>>>();
}

double max_abs_difference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    double worst = 0;
    for (size_t p = 0; p < a.size(); ++p) {
        for (size_t i = 0; i < a[p].size(); ++i) {
            const double d = std::fabs(double(a[p][i]) - b[p][i]);
            worst = std::isnan(d) ? INFINITY : std::max(worst, d);
        }
    }
    return worst;
}

class temp_dir_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "olm-gguf-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    fs::path write(const std::string& name, const std::string& bytes) {
        write_bytes(root_ / name, bytes);
        return root_ / name;
    }
    fs::path root_;
};

// --- round trips ------------------------------------------------------------------------------

std::vector<std::string> fixture_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(golden_root)) {
        if (entry.is_directory() && fs::exists(entry.path() / "golden.json")) names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

class gguf_round_trip : public temp_dir_test, public ::testing::WithParamInterface<std::string> {};

TEST_P(gguf_round_trip, same_logits_and_info_as_safetensors) {
    const fs::path hf = golden_root / GetParam();
    const gguf_writer w = gguf_from_hf(hf);
    const fs::path gguf = write(GetParam() + ".gguf", w.build());
    const auto prompts = golden_prompts(GetParam());
    const auto want = eval_prompts(hf, prompts);
    const auto got = eval_prompts(gguf, prompts);
    ASSERT_EQ(got.size(), want.size());
    // llama3 rope scaling reaches its frequencies by another float path from GGUF (base / factor,
    // as llama.cpp computes them) than from HF (the llama3 rule): they agree to an ulp
    // (llama3_rope_frequencies_agree_to_an_ulp), so the logits agree closely, not bit for bit.
    const bool rope_factors = std::any_of(w.tensors.begin(), w.tensors.end(), [](const gguf_tensor& t) { return t.name == "rope_freqs.weight"; });
    for (size_t p = 0; p < want.size(); ++p) {
        ASSERT_EQ(got[p].size(), want[p].size());
        if (rope_factors) {
            double scale = 0;
            for (float x : want[p]) scale = std::max(scale, std::fabs(double(x)));
            EXPECT_LT(max_abs_difference({got[p]}, {want[p]}) / scale, 1e-5) << "prompt " << p;
        } else {
            EXPECT_EQ(std::memcmp(got[p].data(), want[p].data(), want[p].size() * sizeof(float)), 0)
                << "prompt " << p << ": logits differ, max |diff| " << max_abs_difference({got[p]}, {want[p]});
        }
    }

    const orleansllm_model_info a = model_info(hf), b = model_info(gguf);
    EXPECT_EQ(b.vocab_size, a.vocab_size);
    EXPECT_EQ(b.hidden_size, a.hidden_size);
    EXPECT_EQ(b.n_layers, a.n_layers);
    EXPECT_EQ(b.n_heads, a.n_heads);
    EXPECT_EQ(b.n_kv_heads, a.n_kv_heads);
    EXPECT_EQ(b.head_dim, a.head_dim);
    EXPECT_EQ(b.max_position_embeddings, a.max_position_embeddings);
    EXPECT_EQ(b.bos_token_id, a.bos_token_id);
    EXPECT_EQ(b.n_eos_token_ids, a.n_eos_token_ids);
    for (int32_t i = 0; i < a.n_eos_token_ids; ++i) EXPECT_EQ(b.eos_token_ids[i], a.eos_token_ids[i]);
    EXPECT_EQ(b.weight_dtype, a.weight_dtype);
    EXPECT_EQ(b.weight_bytes, a.weight_bytes);
    EXPECT_EQ(b.kv_bytes_per_token, a.kv_bytes_per_token);
}

INSTANTIATE_TEST_SUITE_P(golden, gguf_round_trip, ::testing::ValuesIn(fixture_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

class gguf_load : public temp_dir_test {};

// Writing llama Q/K without the permutation must break the model: proof that the loader undoes it.
TEST_F(gguf_load, unpermuted_llama_qk_changes_the_logits) {
    const fs::path hf = golden_root / "llama";
    const fs::path gguf = write("llama.gguf", gguf_from_hf(hf, {/*permute_qk=*/false}).build());
    const auto prompts = golden_prompts("llama");
    const double diff = max_abs_difference(eval_prompts(gguf, prompts), eval_prompts(hf, prompts));
    std::printf("[gguf] llama without the Q/K permutation: max |dlogit| %.3g\n", diff);
    EXPECT_GT(diff, 1e-2);
}

// The same weights and q/k/v biases as llama (Q/K rows and biases permuted) and as qwen2 (not
// permuted; the same forward otherwise): the llama load must undo the bias permutation too.
TEST_F(gguf_load, llama_qk_biases_are_unpermuted) {
    const fs::path hf = golden_root / "llama";
    const fs::path llama = write("llama-bias.gguf", gguf_from_hf(hf, {true, "llama", true}).build());
    const fs::path qwen2 = write("qwen2-bias.gguf", gguf_from_hf(hf, {true, "qwen2", true}).build());
    const auto prompts = golden_prompts("llama");
    const auto want = eval_prompts(qwen2, prompts);
    EXPECT_EQ(max_abs_difference(eval_prompts(llama, prompts), want), 0.0);
    EXPECT_GT(max_abs_difference(eval_prompts(hf, prompts), want), 1e-3) << "the biases changed nothing";
}

TEST_F(gguf_load, llama3_rope_frequencies_agree_to_an_ulp) {
    const fs::path hf = golden_root / "llama3";
    const fs::path gguf = write("llama3.gguf", gguf_from_hf(hf).build());
    const auto want = olm::load_model(hf.string(), 1)->rope_inv_freq;
    const auto got = olm::load_model(gguf.string(), 1)->rope_inv_freq;
    ASSERT_EQ(got.size(), want.size());
    int32_t scaled = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_LE(std::fabs(got[i] - want[i]), std::fabs(std::nextafter(want[i], INFINITY) - want[i])) << "frequency " << i;
        const float unscaled = 1.0f / std::pow(500000.0f, float(2 * i) / 16.0f);  // theta and head_dim of the fixture
        scaled += got[i] < unscaled * 0.99f;
    }
    EXPECT_GT(scaled, 0) << "rope_freqs.weight was not applied";
}

TEST_F(gguf_load, version_2_and_memory_map) {
    gguf_writer w = gguf_from_hf(golden_root / "qwen3");
    w.version = 2;
    const fs::path gguf = write("qwen3-v2.gguf", w.build());
    const auto prompts = golden_prompts("qwen3");
    const auto want = eval_prompts(golden_root / "qwen3", prompts);
    EXPECT_EQ(max_abs_difference(eval_prompts(gguf, prompts, /*use_mmap=*/1), want), 0.0);
}

// A GGUF file is recognised by its magic whatever its name, and any *.gguf path is read as GGUF.
TEST_F(gguf_load, recognised_by_magic_or_extension) {
    const fs::path no_extension = write("model.bin", gguf_from_hf(golden_root / "tied").build());
    EXPECT_TRUE(olm::is_gguf_path(no_extension.string()));
    EXPECT_EQ(try_load(no_extension).status, ORLEANSLLM_OK) << orleansllm_last_error();
    EXPECT_TRUE(olm::is_gguf_path((root_ / "absent.gguf").string()));
    EXPECT_FALSE(olm::is_gguf_path(root_.string()));
    expect_load_error(root_ / "absent.gguf", ORLEANSLLM_ERR_IO, {"cannot open"});
}

TEST_F(gguf_load, metadata_of_every_type) {
    gguf_writer w;
    auto scalar = [&](const std::string& k, uint32_t type, uint64_t bits, int bytes) {
        w.key(k, type);
        w.kv.append(reinterpret_cast<const char*>(&bits), size_t(bytes));
    };
    scalar("u8", 0, 200, 1);
    scalar("i8", 1, uint8_t(-5), 1);
    scalar("u16", 2, 60000, 2);
    scalar("i16", 3, uint16_t(-300), 2);
    scalar("u32", 4, 4000000000u, 4);
    scalar("i32", 5, uint32_t(-70000), 4);
    w.add_f32("f32", 0.25f);
    scalar("bool", 7, 1, 1);
    w.add_string("str", "hello");
    w.add_i32_array("arr", {1, 2, 3});
    scalar("u64", 10, ~uint64_t(0), 8);
    scalar("i64", 11, uint64_t(-9000000000LL), 8);
    double f64 = -1.5;
    uint64_t f64_bits;
    std::memcpy(&f64_bits, &f64, 8);
    scalar("f64", 12, f64_bits, 8);
    w.add_tensor("t", kF16, {3, 2}, std::string(12, '\0'));
    const fs::path path = write("meta.gguf", w.build());

    const olm::gguf_file f(path.string(), olm::weight_memory::mmap);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.get_int("u8"), 200);
    EXPECT_EQ(f.get_int("i8"), -5);
    EXPECT_EQ(f.get_int("u16"), 60000);
    EXPECT_EQ(f.get_int("i16"), -300);
    EXPECT_EQ(f.get_int("u32"), 4000000000LL);
    EXPECT_EQ(f.get_int("i32"), -70000);
    EXPECT_EQ(f.get_number("f32"), 0.25);
    EXPECT_EQ(f.find_value("bool")->bits, 1u);
    EXPECT_EQ(f.get_string("str"), "hello");
    EXPECT_EQ(f.find_value("arr")->element_type, olm::gguf_type::int32);
    EXPECT_EQ(f.find_value("arr")->count, 3u);
    EXPECT_EQ(f.get_int("i64"), -9000000000LL);
    EXPECT_EQ(f.get_number("f64"), -1.5);
    EXPECT_FALSE(f.get_int("absent").has_value());
    const olm::tensor_view* t = f.find("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));  // ne reversed
    EXPECT_EQ(t->type, olm::dtype::f16);
    EXPECT_EQ(t->bytes, 12);

    auto expect_error = [&](auto read, const std::string& needle) {
        try {
            read();
            ADD_FAILURE() << "no error for " << needle;
        } catch (const olm::error& e) {
            EXPECT_EQ(e.status(), ORLEANSLLM_ERR_FORMAT);
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_error([&] { f.get_int("u64"); }, "'u64'");  // above INT64_MAX
    expect_error([&] { f.get_int("str"); }, "'str' is string, expected an integer");
    expect_error([&] { f.get_number("i32"); }, "'i32' is int32, expected a float");
    expect_error([&] { f.get_string("arr"); }, "'arr' is array, expected a string");
}

// --- broken files -----------------------------------------------------------------------------

class gguf_errors : public temp_dir_test {
protected:
    // The llama fixture as GGUF: a real model, so only the break under test can fail the load.
    gguf_writer llama() { return gguf_from_hf(golden_root / "llama"); }
    fs::path write_broken(const std::string& bytes) { return write("broken.gguf", bytes); }
};

TEST_F(gguf_errors, valid_file_loads) { EXPECT_EQ(try_load(write("llama.gguf", llama().build())).status, ORLEANSLLM_OK); }

TEST_F(gguf_errors, bad_magic) {
    std::string bytes = llama().build();
    bytes[3] = 'X';
    // Named *.gguf, so read as GGUF even without the magic.
    expect_load_error(write_broken(bytes), ORLEANSLLM_ERR_FORMAT, {"bad magic"});
}

TEST_F(gguf_errors, empty_file) { expect_load_error(write_broken(""), ORLEANSLLM_ERR_FORMAT, {"truncated header"}); }

TEST_F(gguf_errors, unsupported_version) {
    for (uint32_t version : {1u, 4u}) {
        gguf_writer w = llama();
        w.version = version;
        expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_UNSUPPORTED, {"GGUF version " + std::to_string(version)});
    }
    gguf_writer w = llama();
    w.version = 3u << 24;  // a big-endian file's 3
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_UNSUPPORTED, {"big-endian"});
}

TEST_F(gguf_errors, truncated_header) {
    expect_load_error(write_broken(llama().build().substr(0, 12)), ORLEANSLLM_ERR_FORMAT, {"truncated header (tensor_count)"});
}

TEST_F(gguf_errors, truncated_metadata) {
    gguf_layout layout;
    const std::string bytes = llama().build(&layout);
    // Cut inside the metadata: the counts still fit, an entry does not.
    const std::string cut = bytes.substr(0, (layout.metadata_begin + layout.infos_begin) / 2);
    expect_load_error(write_broken(cut), ORLEANSLLM_ERR_FORMAT, {"metadata key '", "truncated"});
}

TEST_F(gguf_errors, truncated_tensor_infos) {
    gguf_layout layout;
    const std::string bytes = llama().build(&layout);
    expect_load_error(write_broken(bytes.substr(0, layout.infos_begin + 20)), ORLEANSLLM_ERR_FORMAT,
                      {"tensor info 0", "truncated"});
}

TEST_F(gguf_errors, truncated_tensor_data) {
    const gguf_writer w = llama();
    const std::string bytes = w.build();
    // The last tensor laid out loses its last 100 bytes.
    expect_load_error(write_broken(bytes.substr(0, bytes.size() - 100)), ORLEANSLLM_ERR_FORMAT,
                      {"tensor '" + w.tensors.back().name + "'", "runs past the end"});
}

TEST_F(gguf_errors, unsupported_tensor_type) {
    gguf_writer w = llama();
    gguf_tensor& t = w.tensor("blk.0.attn_q.weight");
    t.type = 13;  // Q5_K: [64, 64] would be 16 blocks of 256 elements, 176 bytes each
    t.data = std::string(16 * 176, '\0');
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_UNSUPPORTED,
                      {"tensor 'blk.0.attn_q.weight' has type Q5_K, not supported yet"});
}

TEST_F(gguf_errors, unknown_tensor_type) {
    gguf_writer w = llama();
    w.tensor("blk.1.ffn_up.weight").type = 99;
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"blk.1.ffn_up.weight", "unknown tensor type 99"});
}

TEST_F(gguf_errors, tensor_count_overflows) {
    std::string bytes = llama().build();
    const uint64_t huge = uint64_t(1) << 63;
    std::memcpy(&bytes[8], &huge, 8);
    expect_load_error(write_broken(bytes), ORLEANSLLM_ERR_FORMAT, {"tensor_count 9223372036854775808"});
}

TEST_F(gguf_errors, metadata_count_overflows) {
    std::string bytes = llama().build();
    const uint64_t huge = ~uint64_t(0);
    std::memcpy(&bytes[16], &huge, 8);
    expect_load_error(write_broken(bytes), ORLEANSLLM_ERR_FORMAT, {"metadata_kv_count 18446744073709551615"});
}

TEST_F(gguf_errors, array_length_beyond_file) {
    gguf_writer w = llama();
    w.key("tokenizer.ggml.scores", 9);
    put_u32(w.kv, 6);                      // float32 elements
    put_u64(w.kv, uint64_t(1) << 62);      // × 4 bytes overflows 64 bits
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"tokenizer.ggml.scores", "array length"});
}

TEST_F(gguf_errors, string_length_beyond_file) {
    gguf_writer w = llama();
    w.key("general.description", 8);
    put_u64(w.kv, uint64_t(1) << 40);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"general.description", "string length 1099511627776"});
}

TEST_F(gguf_errors, unknown_value_type) {
    gguf_writer w = llama();
    w.key("general.mystery", 13);
    put_u32(w.kv, 0);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"general.mystery", "unknown value type 13"});
}

TEST_F(gguf_errors, array_of_arrays) {
    gguf_writer w = llama();
    w.key("general.nested", 9);
    put_u32(w.kv, 9);
    put_u64(w.kv, 1);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_UNSUPPORTED, {"general.nested", "array of arrays"});
}

TEST_F(gguf_errors, misaligned_offset) {
    gguf_writer w = llama();
    w.tensors[3].offset = 4;  // a multiple of 4, not of 32
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"tensor '" + w.tensors[3].name + "'", "misaligned"});
}

TEST_F(gguf_errors, alignment_not_a_power_of_two) {
    gguf_writer w = llama();
    w.add_u32("general.alignment", 24);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"general.alignment 24"});
}

TEST_F(gguf_errors, too_many_dimensions) {
    gguf_writer w = llama();
    w.tensor("output_norm.weight").ne = {64, 1, 1, 1, 1};
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"tensor 'output_norm.weight' has n_dims 5"});
}

TEST_F(gguf_errors, element_count_overflows) {
    gguf_writer w = llama();
    w.tensor("output_norm.weight").ne = {uint64_t(1) << 32, uint64_t(1) << 32};
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"output_norm.weight", "overflows"});
}

TEST_F(gguf_errors, offset_past_the_end) {
    gguf_writer w = llama();
    w.tensor("blk.0.ffn_down.weight").offset = uint64_t(1) << 40;
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"blk.0.ffn_down.weight", "runs past the end"});
}

TEST_F(gguf_errors, duplicate_tensor_name) {
    gguf_writer w = llama();
    const gguf_tensor copy = w.tensor("output_norm.weight");
    w.tensors.push_back(copy);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"duplicate tensor 'output_norm.weight'"});
}

TEST_F(gguf_errors, duplicate_metadata_key) {
    gguf_writer w = llama();
    w.add_string("general.architecture", "llama");
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"duplicate metadata key 'general.architecture'"});
}

// --- files that parse but do not make a model ----------------------------------------------------

TEST_F(gguf_errors, unsupported_architecture) {
    gguf_writer w = llama();
    w.kv.clear();
    w.n_kv = 0;
    w.add_string("general.architecture", "gpt2");
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_UNSUPPORTED, {"'gpt2'"});
}

TEST_F(gguf_errors, missing_metadata_key) {
    gguf_writer w = llama();
    w.kv.clear();
    w.n_kv = 0;
    w.add_string("general.architecture", "llama");
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"llama.embedding_length"});
}

TEST_F(gguf_errors, metadata_of_the_wrong_type) {
    gguf_writer w;
    w.add_string("general.architecture", "qwen2");
    w.add_string("qwen2.embedding_length", "64");
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"qwen2.embedding_length", "expected an integer"});
}

TEST_F(gguf_errors, missing_tensor) {
    gguf_writer w = llama();
    w.tensors.erase(std::find_if(w.tensors.begin(), w.tensors.end(), [](const gguf_tensor& t) { return t.name == "blk.1.ffn_gate.weight"; }));
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"missing tensor 'blk.1.ffn_gate.weight'"});
}

TEST_F(gguf_errors, tensor_with_wrong_shape) {
    gguf_writer w = llama();
    w.tensor("blk.0.attn_v.weight").ne = {32, 64};  // [out, in] swapped: ne must be [in, out]
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"blk.0.attn_v.weight", "has shape [64, 32], expected [32, 64]"});
}

TEST_F(gguf_errors, rope_freqs_not_positive) {
    gguf_writer w = gguf_from_hf(golden_root / "llama3");
    put_f32(w.tensor("rope_freqs.weight").data, 1.0f);  // one factor too many: wrong shape
    w.tensor("rope_freqs.weight").ne = {9};
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"rope_freqs.weight", "shape"});
    w = gguf_from_hf(golden_root / "llama3");
    std::memset(&w.tensor("rope_freqs.weight").data[4], 0, 4);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"rope_freqs.weight[1]", "not a positive factor"});
}

TEST_F(gguf_errors, vocab_size_disagrees_with_embedding) {
    gguf_writer w = llama();
    w.add_u32("llama.vocab_size", 161);
    expect_load_error(write_broken(w.build()), ORLEANSLLM_ERR_FORMAT, {"llama.vocab_size", "token_embd"});
}

}  // namespace
