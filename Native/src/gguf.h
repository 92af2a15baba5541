// gguf.h: a memory-mapped GGUF file (llama.cpp's single-file format, versions 2 and 3; the layout
// is docs/GGUF.md): its metadata and views of its tensors, shaped like safetensors_set's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "safetensors.h"

namespace olm {

// GGUF metadata value types (the numbers are the format's).
enum class gguf_type : uint32_t {
    uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, boolean = 7,
    string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};

const char* gguf_type_name(gguf_type t);

// One metadata value. Scalars are kept (integers and bools as their 64-bit pattern, floats
// widened to double); arrays only as element type and count: the engine needs none of them (the
// tokenizer arrays are read in C#), so their elements are checked and skipped.
struct gguf_value {
    gguf_type type = gguf_type::uint8;
    uint64_t bits = 0;        // integer and bool types: the value, sign-extended for signed types
    double number = 0;        // float32 / float64
    std::string text;         // string
    gguf_type element_type = gguf_type::uint8;  // array
    uint64_t count = 0;                         // array
};

// True when `path` names a GGUF file rather than a model directory: it is not a directory, and it
// ends in ".gguf" or begins with the bytes "GGUF".
bool is_gguf_path(const std::string& path);

class gguf_file {
public:
    // Throws olm::error (IO / FORMAT / UNSUPPORTED) naming the file and what is wrong.
    gguf_file(const std::string& path, weight_memory memory);

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }

    // nullptr when absent.
    const gguf_value* find_value(const std::string& key) const;
    // Typed reads: nullopt when absent; ORLEANSLLM_ERR_FORMAT naming the key when it holds another
    // type (any integer type reads as an integer, float32 and float64 as a number), or an integer
    // that int64 cannot hold.
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_number(const std::string& key) const;
    std::optional<std::string> get_string(const std::string& key) const;
    const std::map<std::string, gguf_value>& metadata() const { return metadata_; }

    // nullptr when absent. Shapes are in the usual row-major order: GGUF's ne reversed.
    const tensor_view* find(const std::string& name) const;
    const std::map<std::string, tensor_view>& tensors() const { return tensors_; }

private:
    std::string path_;
    uint32_t version_ = 0;
    std::unique_ptr<mapped_file> file_;
    std::map<std::string, gguf_value> metadata_;
    std::map<std::string, tensor_view> tensors_;
};

}  // namespace olm
