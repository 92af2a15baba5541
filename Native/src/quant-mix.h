// quant-mix.h: the weight schemes of quantizing at load and converting (the C API's weight_type):
// one type for every matrix (Q8_0, Q4_0) or llama.cpp's Q4_K_M type mixture (llama-quant.cpp, without an importance matrix):
// which quantized type each matrix of a model gets. One rule for quantizing at load and for the
// converter (through the C API), so both write what llama.cpp's quantizer writes for the same
// model. docs/QUANTIZATION.md states the rule.
#pragma once

#include <cstdint>
#include <string>

#include "dtype.h"

namespace olm {

// What a matrix is, as far as the mixture cares.
enum class weight_role { token_embd, output, attn_v, ffn_down, other };

// The numbers are the C API's weight_type values (Q4_K_M is llama_ftype 15, a mixture, not a dtype).
enum class weight_scheme : int32_t { as_stored = 0, q8_0 = 3, q4_0 = 4, q4_k_m = 15 };

// The type a matrix gets under `scheme`; f16 means "not quantized" (as stored): every matrix for
// as_stored, and the matrices whose rows are not whole blocks of any type the scheme allows.
dtype scheme_type(weight_scheme scheme, weight_role role, int layer, int n_layers, int64_t cols, bool tied);

// The Q4_K_M type of a matrix with rows of `cols` elements: the LM head (and the embedding when
// it is the LM head, `tied`) Q6_K, or Q8_0 when its rows are not whole 256-blocks; attn_v and
// ffn_down Q6_K in the layers use_more_bits picks, Q4_K elsewhere; then the fallback for rows that
// are not whole blocks: Q4_K → Q5_0, Q6_K → Q8_0, and f16 (meaning "not quantized") when even
// 32-blocks do not fit.
dtype q4_k_m_type(weight_role role, int layer, int n_layers, int64_t cols, bool tied);

// The same for a GGUF tensor name ("token_embd.weight", "output.weight", "blk.N.attn_v.weight",
// "blk.N.ffn_down.weight", ...; the layer is N).
dtype q4_k_m_type(const std::string& gguf_name, int n_layers, int64_t cols, bool tied);

}  // namespace olm
