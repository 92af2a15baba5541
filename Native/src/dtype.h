// dtype.h: element types of weights and KV caches. The lowest header: the file reader, the
// model and the CPU kernels all name types, none of them owns the notion.
#pragma once

#include <cstdint>

namespace olm {

enum class dtype : int32_t { f32 = 0, f16 = 1, bf16 = 2 };

const char* dtype_name(dtype t);
int64_t dtype_size(dtype t);

}  // namespace olm
