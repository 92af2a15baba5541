#include "dtype.h"

#include "quant.h"

namespace olm {

const char* dtype_name(dtype t) {
    switch (t) {
        case dtype::f32: return "F32";
        case dtype::f16: return "F16";
        case dtype::bf16: return "BF16";
        case dtype::q8_0: return "Q8_0";
        case dtype::q4_0: return "Q4_0";
        case dtype::q5_0: return "Q5_0";
        case dtype::q5_1: return "Q5_1";
        case dtype::q4_k: return "Q4_K";
        case dtype::q6_k: return "Q6_K";
        case dtype::kv_int8: return "INT8";
    }
    return "?";
}

bool dtype_is_quantized(dtype t) {
    return static_cast<int32_t>(t) >= static_cast<int32_t>(dtype::q8_0) && static_cast<int32_t>(t) <= static_cast<int32_t>(dtype::q6_k);
}

int64_t dtype_size(dtype t) {
    if (t == dtype::f32) return 4;
    return t == dtype::kv_int8 ? 1 : 2;
}

int64_t dtype_block_elements(dtype t) {
    if (t == dtype::q4_k || t == dtype::q6_k) return kSuperBlock;
    return dtype_is_quantized(t) ? kQuantBlock : 1;
}

int64_t dtype_block_bytes(dtype t) {
    switch (t) {
        case dtype::q8_0: return sizeof(block_q8_0);
        case dtype::q4_0: return sizeof(block_q4_0);
        case dtype::q5_0: return sizeof(block_q5_0);
        case dtype::q5_1: return sizeof(block_q5_1);
        case dtype::q4_k: return sizeof(block_q4_k);
        case dtype::q6_k: return sizeof(block_q6_k);
        default: return dtype_size(t);
    }
}

}  // namespace olm
