// The integer matmul (quant_matmul.h) for Q4_1, Q5_0 and Q5_1 weights: their packed layout, the scalar kernel
// over it, the reference over the original blocks and the AVX-512 VNNI kernel, which quant_matmul.cpp and
// quant_matmul_avx512.cpp dispatch to.
//
// Per block the int32 dot product Σ q_w q_x is taken on the unsigned quants (Q5_0's q - 16 through the usual
// -16 Σ q_x correction), then y += s * (d_w d_x); the min m of Q4_1 / Q5_1 adds m * (d_x Σ q_x), which is why
// the activations carry their block sums (QuantActs::ds), as ggml's Q8_1 does.
#pragma once

#include <cstdint>

#include "runtime/kernels/quant_matmul_internal.h"

namespace strata::kernels::internal {

// One packed (group, block): 16 fp16 d (row r at 2 r), for Q4_1 / Q5_1 16 fp16 m, for Q5_0 / Q5_1 the 5th
// bits as 8 64-bit masks (mask v, bit 4 r + i: element 4 v + i of row r, the lanes one vpdpbusd vector takes),
// then Q4_0's 4 units of nibbles (unit j of row r at 64 j + 4 r: low nibbles elements 4 j.., high 16 + 4 j..).
struct Q4_1Q5Layout {
  int64_t m;      // byte offset of the mins, or -1
  int64_t hmask;  // byte offset of the 5th-bit masks, or -1
  int64_t qs;     // byte offset of the nibbles
  int64_t bytes;  // the whole packed block
};

constexpr bool IsQ4_1Q5(DType t) { return t == DType::kQ4_1 || t == DType::kQ5_0 || t == DType::kQ5_1; }
constexpr Q4_1Q5Layout LayoutOf(DType t) {
  return t == DType::kQ4_1   ? Q4_1Q5Layout{32, -1, 64, 64 + 256}
         : t == DType::kQ5_0 ? Q4_1Q5Layout{-1, 32, 96, 96 + 256}
                             : Q4_1Q5Layout{32, 64, 128, 128 + 256};
}

// The offset Q5_0's unsigned quants carry (QuantActs::corr), 0 for the types with a min.
constexpr int32_t Q4_1Q5Offset(DType t) { return t == DType::kQ5_0 ? 16 : 0; }

// Packs block b of rows 16 g .. 16 g + 15 of w (original layout) into dst.
void PackQ4_1Q5Block(const Tensor& w, int64_t g, int64_t b, uint8_t* dst);
// y[t, 16 g ..] for every t and groups g0 <= g < g1 (scalar; the VNNI kernel takes the same steps).
void QuantRowsScalarQ4_1Q5(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
// One output from the original blocks of `row` against activation row 0 of a.
float ReferenceRowQ4_1Q5(DType t, const uint8_t* row, const QuantActs& a);
#if defined(__x86_64__)
void QuantRowsVnniQ4_1Q5(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#endif

}  // namespace strata::kernels::internal
