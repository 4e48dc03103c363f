// ggml's Q2_K, Q3_K and Q5_K (block layouts in dtype.h): the scalar reference dequantization, ggml's reference
// quantization (quantize_row_q{2,3,5}_K_ref, no importance weights), and the per-element accessors the
// integer matmul packs from. n is a multiple of kQK_K.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace strata {

void DequantizeRowQ2_K(const BlockQ2_K* src, float* dst, int64_t n);
void DequantizeRowQ3_K(const BlockQ3_K* src, float* dst, int64_t n);
void DequantizeRowQ5_K(const BlockQ5_K* src, float* dst, int64_t n);

void QuantizeRowQ2_K(const float* src, BlockQ2_K* dst, int64_t n);
void QuantizeRowQ3_K(const float* src, BlockQ3_K* dst, int64_t n);
void QuantizeRowQ5_K(const float* src, BlockQ5_K* dst, int64_t n);

// Element e's (0..255) quant: Q2_K 0..3 (weight d * sc * q - dmin * m), Q3_K 0..7 (weight d * sc * (q - 4)),
// Q5_K 0..31 (weight d * sc * q - dmin * m).
int Q2_KQuant(const BlockQ2_K& b, int e);
int Q3_KQuant(const BlockQ3_K& b, int e);
int Q5_KQuant(const BlockQ5_K& b, int e);
// Q3_K sub-block s's (0..15) signed scale, -32..31, unpacked from the 12 scale bytes.
int Q3_KScale(const uint8_t* scales, int s);

}  // namespace strata
