// ggml's K-quants (super-blocks of 256 elements): the scalar reference dequantization and the reference
// quantization (ggml's quantize_row_q4_K_ref / quantize_row_q6_K_ref, without importance weights), which
// DequantizeRow / QuantizeRow dispatch to. n is a multiple of kQK_K.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace strata {

void DequantizeRowQ4_K(const BlockQ4_K* src, float* dst, int64_t n);
void DequantizeRowQ6_K(const BlockQ6_K* src, float* dst, int64_t n);

void QuantizeRowQ4_K(const float* src, BlockQ4_K* dst, int64_t n);

// Q4_K sub-block j's (0..7) 6-bit scale and min, unpacked from the block's 12 scale bytes.
void Q4_KScaleMin(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m);
// Q6_K element e's (0..255) 6-bit quant, 0..63; the weight is d * scales[e / 16] * (q - 32).
int Q6_KQuant(const BlockQ6_K& b, int e);
void QuantizeRowQ6_K(const float* src, BlockQ6_K* dst, int64_t n);

}  // namespace strata
