#include "gguf.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "status.h"

namespace olm {

namespace {

// ggml tensor types: the one place a GGUF tensor type maps to ours. A type with `supported` has a
// dtype and a block layout (elements and bytes of one block; 1 and the element size when
// unquantized); the others are listed so that a refusal names the type a file uses.
struct ggml_type_info {
    uint32_t id;
    const char* name;
    bool supported;
    dtype type;
    int64_t block_elements;
    int64_t block_bytes;
};

constexpr ggml_type_info ggml_types[] = {
    {0, "F32", true, dtype::f32, 1, 4},
    {1, "F16", true, dtype::f16, 1, 2},
    {30, "BF16", true, dtype::bf16, 1, 2},
    {2, "Q4_0", true, dtype::q4_0, 32, 18},    {3, "Q4_1", false, {}, 0, 0},    {6, "Q5_0", true, dtype::q5_0, 32, 22},
    {7, "Q5_1", true, dtype::q5_1, 32, 24},    {8, "Q8_0", true, dtype::q8_0, 32, 34},    {9, "Q8_1", false, {}, 0, 0},
    {10, "Q2_K", false, {}, 0, 0},   {11, "Q3_K", false, {}, 0, 0},   {12, "Q4_K", true, dtype::q4_k, 256, 144},
    {13, "Q5_K", false, {}, 0, 0},   {14, "Q6_K", true, dtype::q6_k, 256, 210},   {15, "Q8_K", false, {}, 0, 0},
    {16, "IQ2_XXS", false, {}, 0, 0}, {17, "IQ2_XS", false, {}, 0, 0}, {18, "IQ3_XXS", false, {}, 0, 0},
    {19, "IQ1_S", false, {}, 0, 0},  {20, "IQ4_NL", false, {}, 0, 0}, {21, "IQ3_S", false, {}, 0, 0},
    {22, "IQ2_S", false, {}, 0, 0},  {23, "IQ4_XS", false, {}, 0, 0}, {24, "I8", false, {}, 0, 0},
    {25, "I16", false, {}, 0, 0},    {26, "I32", false, {}, 0, 0},    {27, "I64", false, {}, 0, 0},
    {28, "F64", false, {}, 0, 0},    {29, "IQ1_M", false, {}, 0, 0},  {34, "TQ1_0", false, {}, 0, 0},
    {35, "TQ2_0", false, {}, 0, 0},  {39, "MXFP4", false, {}, 0, 0},
};

const ggml_type_info* find_ggml_type(uint32_t id) {
    for (const auto& t : ggml_types) {
        if (t.id == id) return &t;
    }
    return nullptr;
}

constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;

// Bytes of one scalar value; 0 for string, array and unknown types.
int64_t scalar_size(gguf_type t) {
    switch (t) {
        case gguf_type::uint8: case gguf_type::int8: case gguf_type::boolean: return 1;
        case gguf_type::uint16: case gguf_type::int16: return 2;
        case gguf_type::uint32: case gguf_type::int32: case gguf_type::float32: return 4;
        case gguf_type::uint64: case gguf_type::int64: case gguf_type::float64: return 8;
        case gguf_type::string: case gguf_type::array: return 0;
    }
    return 0;
}

bool is_integer(gguf_type t) {
    return scalar_size(t) > 0 && t != gguf_type::float32 && t != gguf_type::float64 && t != gguf_type::boolean;
}

// Reads little-endian values from the mapped bytes; every read past the end is a FORMAT error
// naming the file, the byte and `what` was being read.
class cursor {
public:
    cursor(const uint8_t* data, int64_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

    int64_t pos() const { return pos_; }
    int64_t remaining() const { return size_ - pos_; }

    [[noreturn]] void fail(int32_t status, const std::string& what) const { throw error(status, path_ + ": " + what); }

    void need(uint64_t bytes, const std::string& what) const {
        if (bytes > static_cast<uint64_t>(remaining())) {
            fail(ORLEANSLLM_ERR_FORMAT, "truncated " + what + ": needs " + std::to_string(bytes) + " bytes at byte " +
                                            std::to_string(pos_) + ", the file has " + std::to_string(size_));
        }
    }
    void skip(uint64_t bytes, const std::string& what) {
        need(bytes, what);
        pos_ += static_cast<int64_t>(bytes);
    }
    uint64_t read_uint(int64_t bytes, const std::string& what) {
        need(static_cast<uint64_t>(bytes), what);
        uint64_t v = 0;
        std::memcpy(&v, data_ + pos_, static_cast<size_t>(bytes));  // little-endian host
        pos_ += bytes;
        return v;
    }
    uint32_t u32(const std::string& what) { return static_cast<uint32_t>(read_uint(4, what)); }
    uint64_t u64(const std::string& what) { return read_uint(8, what); }
    uint64_t string_length(const std::string& what) {
        const uint64_t n = u64(what);
        if (n > static_cast<uint64_t>(remaining())) {
            fail(ORLEANSLLM_ERR_FORMAT, what + ": string length " + std::to_string(n) + " at byte " + std::to_string(pos_ - 8) +
                                            " runs past the end of the file (" + std::to_string(size_) + " bytes; truncated or corrupt)");
        }
        return n;
    }
    std::string string(const std::string& what) {
        const uint64_t n = string_length(what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
        pos_ += static_cast<int64_t>(n);
        return s;
    }
    // `count` items of at least `min_bytes` each must fit in the rest of the file.
    void check_count(uint64_t count, int64_t min_bytes, const std::string& what) const {
        if (count > static_cast<uint64_t>(remaining() / min_bytes)) {
            fail(ORLEANSLLM_ERR_FORMAT, what + " " + std::to_string(count) + " is more than the rest of the file (" +
                                            std::to_string(remaining()) + " bytes from byte " + std::to_string(pos_) +
                                            ") can hold (truncated or corrupt)");
        }
    }

private:
    const uint8_t* data_;
    int64_t size_;
    int64_t pos_ = 0;
    const std::string& path_;
};

gguf_type read_value_type(cursor& c, const std::string& what) {
    const uint32_t raw = c.u32(what);
    if (raw > static_cast<uint32_t>(gguf_type::float64)) {
        c.fail(ORLEANSLLM_ERR_FORMAT, what + " has unknown value type " + std::to_string(raw));
    }
    return static_cast<gguf_type>(raw);
}

uint64_t read_scalar_bits(cursor& c, gguf_type type, const std::string& what) {
    const int64_t size = scalar_size(type);
    uint64_t v = c.read_uint(size, what);
    const bool is_signed = type == gguf_type::int8 || type == gguf_type::int16 || type == gguf_type::int32;
    if (is_signed) {  // sign-extend to 64 bits
        const int shift = 64 - 8 * static_cast<int>(size);
        v = static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
    }
    return v;
}

gguf_value read_value(cursor& c, gguf_type type, const std::string& what) {
    gguf_value v;
    v.type = type;
    if (type == gguf_type::string) {
        v.text = c.string(what);
    } else if (type == gguf_type::array) {
        v.element_type = read_value_type(c, what + " (array element type)");
        if (v.element_type == gguf_type::array) {
            c.fail(ORLEANSLLM_ERR_UNSUPPORTED, what + " is an array of arrays, which is not supported");
        }
        v.count = c.u64(what + " (array length)");
        if (v.element_type == gguf_type::string) {
            c.check_count(v.count, 8, what + " array length");
            for (uint64_t i = 0; i < v.count; ++i) c.skip(c.string_length(what), what);
        } else {
            const int64_t size = scalar_size(v.element_type);
            c.check_count(v.count, size, what + " array length");
            c.skip(v.count * static_cast<uint64_t>(size), what);
        }
    } else if (type == gguf_type::float32) {
        const uint32_t bits = static_cast<uint32_t>(c.read_uint(4, what));
        float f;
        std::memcpy(&f, &bits, 4);
        v.number = f;
    } else if (type == gguf_type::float64) {
        const uint64_t bits = c.u64(what);
        std::memcpy(&v.number, &bits, 8);
    } else {
        v.bits = read_scalar_bits(c, type, what);
    }
    return v;
}

}  // namespace

const char* gguf_type_name(gguf_type t) {
    switch (t) {
        case gguf_type::uint8: return "uint8";
        case gguf_type::int8: return "int8";
        case gguf_type::uint16: return "uint16";
        case gguf_type::int16: return "int16";
        case gguf_type::uint32: return "uint32";
        case gguf_type::int32: return "int32";
        case gguf_type::float32: return "float32";
        case gguf_type::boolean: return "bool";
        case gguf_type::string: return "string";
        case gguf_type::array: return "array";
        case gguf_type::uint64: return "uint64";
        case gguf_type::int64: return "int64";
        case gguf_type::float64: return "float64";
    }
    return "?";
}

bool is_gguf_path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec)) return false;
    if (fs::path(path).extension() == ".gguf") return true;
    if (!fs::is_regular_file(path, ec)) return false;
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

gguf_file::gguf_file(const std::string& path, weight_memory memory) : path_(path) {
    file_ = std::make_unique<mapped_file>(path, memory);
    cursor c(file_->data(), file_->size(), path_);

    // Header.
    c.need(4, "header (magic)");
    if (std::memcmp(file_->data(), "GGUF", 4) != 0) {
        c.fail(ORLEANSLLM_ERR_FORMAT, "not a GGUF file: bad magic (the first 4 bytes are not \"GGUF\")");
    }
    c.skip(4, "header (magic)");
    version_ = c.u32("header (version)");
    if (version_ != 2 && version_ != 3) {
        const bool byte_swapped = version_ != 0 && (version_ & 0xffffu) == 0;
        c.fail(ORLEANSLLM_ERR_UNSUPPORTED, "GGUF version " + std::to_string(version_) + " is not supported (2 and 3 are)" +
                                               (byte_swapped ? "; the file looks big-endian" : ""));
    }
    const uint64_t tensor_count = c.u64("header (tensor_count)");
    const uint64_t kv_count = c.u64("header (metadata_kv_count)");
    // Smallest entries: a key-value is an empty key (8) + type (4) + a 1-byte value; a tensor info
    // an empty name (8) + n_dims (4) + one ne (8) + type (4) + offset (8).
    c.check_count(kv_count, 13, "metadata_kv_count");
    c.check_count(tensor_count, 32, "tensor_count");

    // Metadata.
    for (uint64_t i = 0; i < kv_count; ++i) {
        const std::string where = "metadata entry " + std::to_string(i);
        std::string key = c.string(where + " (key)");
        const std::string what = "metadata key '" + key + "'";
        const gguf_type type = read_value_type(c, what);
        gguf_value value = read_value(c, type, what);
        if (!metadata_.emplace(std::move(key), std::move(value)).second) c.fail(ORLEANSLLM_ERR_FORMAT, "duplicate " + what);
    }
    uint64_t alignment = kDefaultAlignment;
    if (const std::optional<int64_t> a = get_int("general.alignment")) {
        if (*a <= 0 || (*a & (*a - 1)) != 0) {
            c.fail(ORLEANSLLM_ERR_FORMAT, "general.alignment " + std::to_string(*a) + " is not a power of two");
        }
        alignment = static_cast<uint64_t>(*a);
    }

    // Tensor infos: the data offsets are checked once the data section's start is known.
    struct pending {
        std::string name;
        const ggml_type_info* type;
        std::vector<int64_t> shape;
        int64_t bytes;
        uint64_t offset;
    };
    std::vector<pending> infos;
    infos.reserve(static_cast<size_t>(tensor_count));
    for (uint64_t i = 0; i < tensor_count; ++i) {
        pending t;
        t.name = c.string("tensor info " + std::to_string(i) + " (name)");
        const std::string what = "tensor '" + t.name + "'";
        const uint32_t n_dims = c.u32(what + " (n_dims)");
        if (n_dims == 0 || n_dims > kMaxDims) {
            c.fail(ORLEANSLLM_ERR_FORMAT, what + " has n_dims " + std::to_string(n_dims) + " (1 to 4 are allowed)");
        }
        std::vector<uint64_t> ne(n_dims);
        int64_t elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            ne[d] = c.u64(what + " (ne)");
            if (ne[d] > static_cast<uint64_t>(INT64_MAX) || (ne[d] != 0 && elements > INT64_MAX / static_cast<int64_t>(ne[d]))) {
                c.fail(ORLEANSLLM_ERR_FORMAT, what + " has dimensions whose element count overflows");
            }
            elements *= static_cast<int64_t>(ne[d]);
        }
        const uint32_t type_id = c.u32(what + " (type)");
        t.type = find_ggml_type(type_id);
        if (t.type == nullptr) {
            c.fail(ORLEANSLLM_ERR_FORMAT, what + " has unknown tensor type " + std::to_string(type_id));
        }
        if (!t.type->supported) {
            c.fail(ORLEANSLLM_ERR_UNSUPPORTED, what + " has type " + t.type->name + ", not supported yet (supported: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q6_K)");
        }
        if (static_cast<int64_t>(ne[0]) % t.type->block_elements != 0) {
            c.fail(ORLEANSLLM_ERR_FORMAT, what + " has ne[0] " + std::to_string(ne[0]) + ", not a multiple of the " + t.type->name +
                                              " block of " + std::to_string(t.type->block_elements));
        }
        const int64_t blocks = elements / t.type->block_elements;
        if (blocks > INT64_MAX / t.type->block_bytes) c.fail(ORLEANSLLM_ERR_FORMAT, what + " has a byte size that overflows");
        t.bytes = blocks * t.type->block_bytes;
        for (uint32_t d = n_dims; d-- > 0;) t.shape.push_back(static_cast<int64_t>(ne[d]));
        t.offset = c.u64(what + " (offset)");
        if (t.offset % alignment != 0) {
            c.fail(ORLEANSLLM_ERR_FORMAT, what + " has offset " + std::to_string(t.offset) + ", misaligned (not a multiple of " +
                                              std::to_string(alignment) + ")");
        }
        infos.push_back(std::move(t));
    }

    // Tensor data, from the first aligned byte after the infos.
    const uint64_t infos_end = static_cast<uint64_t>(c.pos());
    const uint64_t data_start = (infos_end + alignment - 1) / alignment * alignment;
    const uint64_t file_size = static_cast<uint64_t>(file_->size());
    const uint64_t data_size = data_start <= file_size ? file_size - data_start : 0;
    for (auto& t : infos) {
        const std::string what = "tensor '" + t.name + "'";
        const uint64_t bytes = static_cast<uint64_t>(t.bytes);
        if (data_start > file_size || t.offset > data_size || bytes > data_size - t.offset) {
            c.fail(ORLEANSLLM_ERR_FORMAT, what + " data [" + std::to_string(t.offset) + ", +" + std::to_string(bytes) +
                                              ") runs past the end of the file (" + std::to_string(data_size) +
                                              " data bytes from byte " + std::to_string(data_start) + "; truncated?)");
        }
        tensor_view v;
        v.name = t.name;
        v.file = path_;
        v.type = t.type->type;
        v.shape = std::move(t.shape);
        v.data = file_->data() + data_start + t.offset;
        v.bytes = t.bytes;
        if (!tensors_.emplace(t.name, std::move(v)).second) c.fail(ORLEANSLLM_ERR_FORMAT, "duplicate " + what);
    }
}

const gguf_value* gguf_file::find_value(const std::string& key) const {
    auto it = metadata_.find(key);
    return it == metadata_.end() ? nullptr : &it->second;
}

std::optional<int64_t> gguf_file::get_int(const std::string& key) const {
    const gguf_value* v = find_value(key);
    if (v == nullptr) return std::nullopt;
    if (!is_integer(v->type)) {
        throw error(ORLEANSLLM_ERR_FORMAT, path_ + ": metadata key '" + key + "' is " + gguf_type_name(v->type) + ", expected an integer");
    }
    if (v->type == gguf_type::uint64 && v->bits > static_cast<uint64_t>(INT64_MAX)) {
        throw error(ORLEANSLLM_ERR_FORMAT, path_ + ": metadata key '" + key + "' = " + std::to_string(v->bits) + " is out of range");
    }
    return static_cast<int64_t>(v->bits);
}

std::optional<double> gguf_file::get_number(const std::string& key) const {
    const gguf_value* v = find_value(key);
    if (v == nullptr) return std::nullopt;
    if (v->type != gguf_type::float32 && v->type != gguf_type::float64) {
        throw error(ORLEANSLLM_ERR_FORMAT, path_ + ": metadata key '" + key + "' is " + gguf_type_name(v->type) + ", expected a float");
    }
    return v->number;
}

std::optional<std::string> gguf_file::get_string(const std::string& key) const {
    const gguf_value* v = find_value(key);
    if (v == nullptr) return std::nullopt;
    if (v->type != gguf_type::string) {
        throw error(ORLEANSLLM_ERR_FORMAT, path_ + ": metadata key '" + key + "' is " + gguf_type_name(v->type) + ", expected a string");
    }
    return v->text;
}

const tensor_view* gguf_file::find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace olm
