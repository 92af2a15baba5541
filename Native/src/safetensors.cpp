#include "safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "status.h"

namespace fs = std::filesystem;

namespace olm {

namespace {

// MemAvailable from /proc/meminfo in bytes; -1 when it cannot be read.
int64_t available_memory_bytes() {
    // Lines are "Key: value [kB]"; some (HugePages_*) have no unit, so read line by line.
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        long long kib = 0;
        if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kib) == 1) return int64_t(kib) * 1024;
    }
    return -1;
}

// Reads the whole file into anonymous memory advised to use transparent huge pages.
const uint8_t* copy_to_huge_pages(int fd, const std::string& path, int64_t size, size_t& mapping_bytes) {
    const int64_t available = available_memory_bytes();
    if (available >= 0 && size > available) {
        throw error(ORLEANSLLM_ERR_OUT_OF_MEMORY, "cannot copy " + path + " (" + std::to_string(size) +
                                                      " bytes) into memory: only " + std::to_string(available) +
                                                      " bytes available; load with use_mmap = 1");
    }
    constexpr size_t kHugePage = size_t(2) << 20;
    mapping_bytes = (static_cast<size_t>(size) + kHugePage - 1) / kHugePage * kHugePage;
    void* p = ::mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw error(ORLEANSLLM_ERR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(mapping_bytes) + " bytes for " + path +
                                                      ": " + std::strerror(errno) + "; load with use_mmap = 1");
    }
    ::madvise(p, mapping_bytes, MADV_HUGEPAGE);  // advice only: without THP the copy still works
    int64_t done = 0;
    while (done < size) {
        const ssize_t got = ::pread(fd, static_cast<uint8_t*>(p) + done, static_cast<size_t>(size - done), done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            const int err = got < 0 ? errno : 0;
            ::munmap(p, mapping_bytes);
            throw error(ORLEANSLLM_ERR_IO, "cannot read " + path + " at byte " + std::to_string(done) + ": " +
                                               (err != 0 ? std::strerror(err) : "file shrank while loading"));
        }
        done += got;
    }
    ::mprotect(p, mapping_bytes, PROT_READ);
    return static_cast<const uint8_t*>(p);
}

}  // namespace

mapped_file::mapped_file(const std::string& path, weight_memory memory) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw error(ORLEANSLLM_ERR_IO, "cannot open " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw error(ORLEANSLLM_ERR_IO, "cannot stat " + path + ": " + std::strerror(err));
    }
    size_ = st.st_size;
    if (size_ > 0 && memory == weight_memory::huge_pages) {
        try {
            data_ = copy_to_huge_pages(fd, path, size_, mapping_bytes_);
        } catch (...) {
            ::close(fd);
            throw;
        }
    } else if (size_ > 0) {
        void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw error(ORLEANSLLM_ERR_IO, "cannot mmap " + path + ": " + std::strerror(err));
        }
        data_ = static_cast<const uint8_t*>(p);
        mapping_bytes_ = static_cast<size_t>(size_);
    }
    ::close(fd);
}

mapped_file::~mapped_file() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), mapping_bytes_);
}

static dtype parse_dtype(const std::string& s, const std::string& tensor, const std::string& file) {
    if (s == "F32") return dtype::f32;
    if (s == "F16") return dtype::f16;
    if (s == "BF16") return dtype::bf16;
    throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                file + ": tensor '" + tensor + "' has dtype " + s + "; supported: F32, F16, BF16");
}

safetensors_set::safetensors_set(const std::string& model_dir, weight_memory memory) : memory_(memory) {
    if (!fs::is_directory(model_dir)) {
        throw error(ORLEANSLLM_ERR_IO, "model directory not found: " + model_dir);
    }
    fs::path index = fs::path(model_dir) / "model.safetensors.index.json";
    std::vector<std::string> files;
    if (fs::exists(index)) {
        nlohmann::json j;
        try {
            std::ifstream in(index);
            j = nlohmann::json::parse(in);
        } catch (const std::exception& e) {
            throw error(ORLEANSLLM_ERR_FORMAT, index.string() + ": malformed JSON: " + e.what());
        }
        if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
            throw error(ORLEANSLLM_ERR_FORMAT, index.string() + ": missing object 'weight_map'");
        }
        std::set<std::string> shards;
        for (auto& [tensor, shard] : j["weight_map"].items()) {
            if (!shard.is_string()) {
                throw error(ORLEANSLLM_ERR_FORMAT, index.string() + ": weight_map entry '" + tensor + "' is not a file name");
            }
            shards.insert(shard.get<std::string>());
        }
        for (const auto& shard : shards) {
            fs::path p = fs::path(model_dir) / shard;
            if (!fs::exists(p)) {
                throw error(ORLEANSLLM_ERR_IO, index.string() + " names shard " + shard + ", which does not exist");
            }
            files.push_back(p.string());
        }
    } else {
        for (const auto& entry : fs::directory_iterator(model_dir)) {
            if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            throw error(ORLEANSLLM_ERR_IO, "no *.safetensors file in " + model_dir);
        }
    }
    for (const auto& f : files) load_file(f);
}

void safetensors_set::load_file(const std::string& path) {
    auto file = std::make_unique<mapped_file>(path, memory_);
    const int64_t size = file->size();
    if (size < 8) {
        throw error(ORLEANSLLM_ERR_FORMAT, path + ": truncated safetensors file (" + std::to_string(size) + " bytes, no header)");
    }
    uint64_t header_len = 0;
    std::memcpy(&header_len, file->data(), 8);  // little-endian on every supported host
    if (header_len > static_cast<uint64_t>(size - 8) || header_len > (100u << 20)) {
        throw error(ORLEANSLLM_ERR_FORMAT, path + ": header length " + std::to_string(header_len) +
                                               " exceeds the file size " + std::to_string(size) + " (truncated or corrupt)");
    }
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(file->data() + 8, file->data() + 8 + header_len);
    } catch (const std::exception& e) {
        throw error(ORLEANSLLM_ERR_FORMAT, path + ": corrupt safetensors header: " + e.what());
    }
    if (!header.is_object()) throw error(ORLEANSLLM_ERR_FORMAT, path + ": safetensors header is not a JSON object");
    const int64_t data_start = 8 + static_cast<int64_t>(header_len);
    const int64_t data_size = size - data_start;
    for (auto& [name, info] : header.items()) {
        if (name == "__metadata__") continue;
        if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
            throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' lacks dtype, shape or data_offsets");
        }
        tensor_view t;
        t.name = name;
        t.file = path;
        try {
            t.type = parse_dtype(info["dtype"].get<std::string>(), name, path);
            int64_t elements = 1;
            for (const auto& d : info["shape"]) {
                int64_t v = d.get<int64_t>();
                if (v < 0) throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' has a negative dimension");
                t.shape.push_back(v);
                elements *= v;
            }
            const auto& off = info["data_offsets"];
            if (!off.is_array() || off.size() != 2) throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' has malformed data_offsets");
            int64_t begin = off[0].get<int64_t>(), end = off[1].get<int64_t>();
            if (begin < 0 || end < begin || end > data_size) {
                throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " +
                                                       std::to_string(end) + ") lie outside the file's " + std::to_string(data_size) + " data bytes");
            }
            if (end - begin != elements * dtype_size(t.type)) {
                throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' holds " + std::to_string(end - begin) +
                                                       " bytes but its shape needs " + std::to_string(elements * dtype_size(t.type)));
            }
            t.data = file->data() + data_start + begin;
            t.bytes = end - begin;
        } catch (const nlohmann::json::exception& e) {
            throw error(ORLEANSLLM_ERR_FORMAT, path + ": tensor '" + name + "' has a malformed entry: " + e.what());
        }
        tensors_[name] = std::move(t);
    }
    files_.push_back(std::move(file));
}

const tensor_view* safetensors_set::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace olm
