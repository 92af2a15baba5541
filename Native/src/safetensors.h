// safetensors.h: memory-mapped *.safetensors files of a model directory (single file, several
// files, or the sharded layout with model.safetensors.index.json).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"

namespace olm {

struct tensor_view {
    std::string name;
    std::string file;            // path of the file holding it (for error messages)
    dtype type = dtype::f32;
    std::vector<int64_t> shape;
    const void* data = nullptr;  // points into the mapping; valid while the set lives
    int64_t bytes = 0;
};

// How a model's files are held in memory (orleansllm_model_params.use_mmap).
enum class weight_memory { huge_pages, mmap };

// One file's bytes, read-only: a memory map of the file, or a copy in anonymous memory advised
// to use transparent huge pages. Released on destruction.
class mapped_file {
public:
    mapped_file(const std::string& path, weight_memory memory);
    ~mapped_file();
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;

    const uint8_t* data() const { return data_; }
    int64_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;
    int64_t size_ = 0;
    size_t mapping_bytes_ = 0;
};

class safetensors_set {
public:
    // Throws olm::error (IO / FORMAT / UNSUPPORTED) naming the file and tensor at fault.
    safetensors_set(const std::string& model_dir, weight_memory memory);

    // nullptr when absent.
    const tensor_view* find(const std::string& name) const;
    const std::map<std::string, tensor_view>& tensors() const { return tensors_; }

private:
    void load_file(const std::string& path);

    weight_memory memory_;
    std::vector<std::unique_ptr<mapped_file>> files_;
    std::map<std::string, tensor_view> tensors_;
};

}  // namespace olm
