// Internals shared by quant_matmul.cpp and its AVX-512 VNNI file: quantized activations and the per-path
// entry points.
#pragma once

#include <cstdint>

#include "core/k_quants.h"
#include "runtime/kernels/quant_matmul.h"

namespace strata::kernels::internal {

// T activation rows quantized to 8 bits, one scale per 32 values. corr[t * nb + b] is the int32 that turns
// the block's unsigned-weight dot product into the signed one: -(weight offset) * Σ q over the block, where
// the offset is 8 for Q4_0 nibbles, 128 for Q8_0 bytes stored as q + 128, and 0 for Q4_K (unsigned nibbles).
struct QuantActs {
  int64_t T = 0, K = 0, nb = 0;
  const int8_t* q = nullptr;  // row t at q + t * K
  const float* d = nullptr;   // [T, nb] (a span's blocks hold the same scale: QuantizeRowScalar)
  const int32_t* corr = nullptr;
  const float* ds = nullptr;  // [T, nb]: d * Σ q over the block (the Q4_K mins' term)
  const int32_t* corr16 = nullptr;  // [T, 2 nb]: -32 Σ q over each half block (Q6_K's q - 32 per 16 values)
};

// Byte offsets inside one packed Q6_K (group, super-block): fp16 d per row, the 16 sub-block scales per row
// (int8, sub-block s row r at 16 s + r), then per quad h of 32-groups (a, b, c, d = 4h..4h + 3) three planes
// of 8 units each, stored unit by unit (Q6KUnit): plane k's byte holds group a / b / c's 6-bit quant in bits 0..5 (k = 0, 1, 2) and bits
// 2k..2k + 1 of group d's quant in bits 6..7. Three groups unpack with one AND each and the fourth with three
// shifts and three bitwise ops: half the work of separate nibble and top-bit planes, in the same 6 bits.
inline constexpr int64_t kQ6K_D = 0, kQ6K_Sc = 32, kQ6K_Q = 288;
inline constexpr int64_t kQ6K_BlockBytes = kQ6K_Q + 2 * 3 * 512;
// Byte offset of unit u (0..7) of plane k (0..2) of quad h (0..1) in a packed Q6_K block. A unit's three planes
// lie side by side, so a quad is read in address order: with the planes 512 bytes apart, a core whose hardware
// prefetcher follows few streams (AMD Zen 4) read Q6_K weights at under half Q4_K's rate.
inline constexpr int64_t Q6KUnit(int h, int k, int u) { return kQ6K_Q + 1536 * h + 192 * u + 64 * k; }

// Byte offsets inside one packed Q4_K (group, super-block): fp16 d and dmin per row, the 8 sub-blocks' scales
// and mins per row (u8, sub-block j row r at 16 j + r), then the quants of sub-block pair p (0..3) as 8 units.
inline constexpr int64_t kQ4K_D = 0, kQ4K_Dmin = 32, kQ4K_Sc = 64, kQ4K_M = 192, kQ4K_Qs = 320;
inline constexpr int64_t kQ4K_BlockBytes = kQ4K_Qs + 4 * 8 * 64;

// One row of K floats to 8-bit blocks of 32: d = amax / 127, q = round-half-even(x / d) (x * (1 / d) in float),
// amax over each `span` values (32, or 256 for Q4_K and Q6_K weights: ActivationSpan) and d stored for each of
// the span's blocks (K a multiple of span, span a multiple of 32). Also fills ds and corr16
// (see QuantActs).
void QuantizeRowScalar(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds,
                       int32_t* corr16, int64_t span = 32);
// The values that share an activation scale for weights of type t: 256 for Q4_K and Q6_K (a super-block, as
// llama.cpp's Q8_K), so their kernels apply it once per super-block instead of once per 32 values (Q6_K's two
// 16-value scales cost an extra conversion and multiply per 32 with one scale per 32: prefill ~10 % slower than
// Q8_0); 32 for the rest.
inline int64_t ActivationSpan(DType t) { return t == DType::kQ4_K || t == DType::kQ6_K ? 256 : 32; }
// y[t, 16 g ..] for every t and groups g0 <= g < g1.
void QuantRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#if defined(__x86_64__)
void QuantizeRowAvx512(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds,
                       int32_t* corr16, int64_t span = 32);
void QuantRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
// Q4_K / Q6_K against T > 1 rows, each super-block unpacked once for all of them
// (quant_matmul_kquant_gemm_avx512.cpp).
void KQuantGemmVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
// The AVX2 path (quant_matmul_avx2.cpp): Q8_0 and Q4_0 only; `vnni` with AVX-VNNI's 256-bit vpdpbusd, else
// vpmaddubsw. Call only on a CPU with AVX2 + FMA + F16C (and AVX-VNNI for vnni).
bool Avx2IntegerDtype(DType t);
void QuantizeRowAvx2(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds,
                     int32_t* corr16, int64_t span = 32);
void QuantRowsAvx2(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1, bool vnni);
#endif

}  // namespace strata::kernels::internal
