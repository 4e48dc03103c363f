// The integer matmul's Q2_K, Q3_K and Q5_K weights (quant_matmul.h): their packed layout, the scalar kernel over
// it, the reference over the original blocks, and the AVX-512 VNNI kernel, which quant_matmul.cpp dispatches to.
//
// Packed layout of one (group of 16 rows, super-block): per-row fp16 d (and dmin) and per-row sub-block scales
// as bytes (sub-block s row r at 16 s + r), then the quants as bit planes in 4-byte units (unit u of row r at
// byte 64 u + 4 r; 8 units cover the 32 elements of one activation block, element l in unit l / 4, byte l % 4):
//   Q2_K: scales byte as in the block (4-bit scale | 4-bit min << 4); 2-bit planes: quad h (0..1) holds
//         32-groups 4h + k in bits 2k.
//   Q3_K: scales as int8 (-32..31); the same 2-bit planes of the quants' low bits, and a 1-bit plane: bit j of
//         a byte is group j's top bit.
//   Q5_K: 6-bit scales and mins as u8 (sub-block j of 32); 4-bit planes: pair p (0..3) holds groups 2p (low
//         nibble) and 2p + 1; and the 1-bit plane of the top bits.
// These are the blocks' own bit positions (dtype.h), only interleaved by row: packing is copies of 4 bytes.
#pragma once

#include <cstdint>

#include "runtime/kernels/quant_matmul_internal.h"

namespace strata::kernels::internal {

inline constexpr int64_t kQ2K_D = 0, kQ2K_Dmin = 32, kQ2K_Sc = 64, kQ2K_Qs = 320;
inline constexpr int64_t kQ2K_BlockBytes = kQ2K_Qs + 2 * 512;
inline constexpr int64_t kQ3K_D = 0, kQ3K_Sc = 32, kQ3K_Qs = 288, kQ3K_Qh = 288 + 2 * 512;
inline constexpr int64_t kQ3K_BlockBytes = kQ3K_Qh + 512;
inline constexpr int64_t kQ5K_D = 0, kQ5K_Dmin = 32, kQ5K_Sc = 64, kQ5K_M = 192, kQ5K_Qs = 320,
                         kQ5K_Qh = 320 + 4 * 512;
inline constexpr int64_t kQ5K_BlockBytes = kQ5K_Qh + 512;

bool IsQ2Q3Q5K(DType t);
// Bytes of one packed (group, super-block).
int64_t Q2Q3Q5KBlockBytes(DType t);
// Packs all of w (its dtype one of the three; rows a multiple of 16) into p.
void PackQ2Q3Q5K(const Tensor& w, PackedWeight& p);
// y[t, 16 g ..] for every t and groups g0 <= g < g1, plain C++ over the packed layout.
void Q2Q3Q5KRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
// One output of QuantMatMulReference: a row in its original blocks against activation row 0 of a.
float Q2Q3Q5KReferenceRow(DType t, const uint8_t* row, const QuantActs& a);
#if defined(__x86_64__)
void Q2Q3Q5KRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#endif

}  // namespace strata::kernels::internal
