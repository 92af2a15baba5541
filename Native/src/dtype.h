// dtype.h: element types of weights and KV caches. The lowest header: the file reader, the
// model and the CPU kernels all name types, none of them owns the notion.
#pragma once

#include <cstdint>

namespace olm {

// Unquantized types hold one element per dtype_size() bytes. Quantized types (docs/QUANTIZATION.md)
// hold blocks of dtype_block_elements() elements in dtype_block_bytes() bytes, with GGUF's layouts;
// a row of a quantized matrix is whole blocks. The numbers are the C API's weight_dtype values.
// Q8_0 and Q4_0 have integer kernels and a quantizer; Q4_K and Q6_K a quantizer and integer decode
// kernels; Q5_0 a quantizer (the Q4_K_M fallback); Q5_1 is read only. Batches widen the K types.
// kv_int8 is a KV cache type only.
enum class dtype : int32_t { f32 = 0, f16 = 1, bf16 = 2, q8_0 = 3, q4_0 = 4, q5_0 = 5, q5_1 = 6, q4_k = 7, q6_k = 8, kv_int8 = 9 };

const char* dtype_name(dtype t);
bool dtype_is_quantized(dtype t);
// Bytes of one element of an unquantized type.
int64_t dtype_size(dtype t);
int64_t dtype_block_elements(dtype t);  // 1 for unquantized types
int64_t dtype_block_bytes(dtype t);     // dtype_size for unquantized types
// Bytes of a row of `cols` elements; `cols` must be a multiple of dtype_block_elements(t).
inline int64_t dtype_row_bytes(dtype t, int64_t cols) { return cols / dtype_block_elements(t) * dtype_block_bytes(t); }

// Bytes of one KV cache row: the head_dim elements of one (token, KV head). A kv_int8 row is
// head_dim int8 values followed by its float32 scale (amax / 127, docs/QUANTIZATION.md): the
// scale sits beside its values, so the kernels read one contiguous row per key.
inline int64_t kv_row_bytes(dtype t, int64_t head_dim) { return t == dtype::kv_int8 ? head_dim + 4 : head_dim * dtype_size(t); }

}  // namespace olm
