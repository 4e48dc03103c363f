// ggml's Q4_1, Q5_0 and Q5_1 blocks (32 elements each, ggml type ids 3, 6 and 7): the block layouts, the scalar
// reference dequantization and ggml's reference quantization (quantize_row_q{4_1,5_0,5_1}_ref), which
// DequantizeRow / QuantizeRow dispatch to. n is a multiple of kQK.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace strata {

// ggml block_q4_1: fp16 scale d, fp16 min m, 32 4-bit values (low nibbles elements 0..15, high nibbles
// 16..31, as Q4_0); value = d * q + m.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// ggml block_q5_0: fp16 scale d, the 5th bits, then the low 4 bits as Q4_0's nibbles. Element e's 5th bit is
// bit e of qh (read as a little-endian uint32); value = d * (q - 16) with q in 0..31.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// ggml block_q5_1: fp16 d, fp16 min m, qh and qs as Q5_0; value = d * q + m with q in 0..31.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Element e's (0..31) quant: 0..15 for Q4_1, 0..31 for Q5_0 / Q5_1 (the 5th bit from qh).
int Q4_1Quant(const BlockQ4_1& b, int e);
template <class Block>
int Q5Quant(const Block& b, int e) {
  const uint32_t qh = static_cast<uint32_t>(b.qh[0]) | static_cast<uint32_t>(b.qh[1]) << 8 |
                      static_cast<uint32_t>(b.qh[2]) << 16 | static_cast<uint32_t>(b.qh[3]) << 24;
  const int low = e < kQK / 2 ? b.qs[e] & 0x0f : b.qs[e - kQK / 2] >> 4;
  return low | static_cast<int>((qh >> e) & 1u) << 4;
}

void DequantizeRowQ4_1(const BlockQ4_1* src, float* dst, int64_t n);
void DequantizeRowQ5_0(const BlockQ5_0* src, float* dst, int64_t n);
void DequantizeRowQ5_1(const BlockQ5_1* src, float* dst, int64_t n);

// Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min, q = trunc((x - min) / d + 0.5) (Q4_1 clamped to 15).
// Q5_0: d = max / -16 with max the value of largest magnitude, q = min(31, trunc(x / d + 16.5)).
void QuantizeRowQ4_1(const float* src, BlockQ4_1* dst, int64_t n);
void QuantizeRowQ5_0(const float* src, BlockQ5_0* dst, int64_t n);
void QuantizeRowQ5_1(const float* src, BlockQ5_1* dst, int64_t n);

}  // namespace strata
