// The loop nest every matmul path shares, parameterised by the instruction set's kernels.
//
// T == 1 (decode) is a GEMV: Kern::Gemv fuses dequantisation into the dot products, one pass over the weights.
// Small T (up to kFusedMaxT) runs the same fused kernel on up to kGemvMT activation rows at once, each
// converted weight vector used for all of them.
// Larger T (prefill) is blocked: kNB weight rows x kKC columns are dequantized once into a float buffer
// (16 KiB, on the stack, L1-resident), then a register-blocked micro-kernel computes kMT activation rows x kNR
// weight rows of dot products over that chunk at a time, for every activation row. Every weight is dequantized
// once per call, whatever T is. F32 weights skip the buffer and are read in place.
//
// Kern provides (all static):
//   kMT, kNR                                     micro-kernel tile: activation rows x weight rows
//   kGemvMT, kFusedMaxT                          fused path: activation rows per pass, largest T it takes
//   template <int MT> Gemv(p, n0, n1, t0)        y[t, n] for n0 <= n < n1, t0 <= t < t0 + MT <= kGemvMT
//   Dequant(dtype, row, k0, kl, dst)             elements [k0, k0 + kl) of a weight row to float
//   template <int MT, int NR> struct Tile { static void Run(x, ldx, b, ldb, kl, y, ldy, accumulate); }
//       y[i * ldy + j] (+)= dot(x + i * ldx, b + j * ldb, kl) for i < MT <= kMT, j < NR <= kNR
// Instantiate only with a Kern type local to the instantiating file (an anonymous namespace), so that each
// instruction set's instantiation stays internal to the file compiled for it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "runtime/kernels/matmul_internal.h"

namespace strata::kernels::internal {

inline constexpr int64_t kKC = 512;  // K chunk (a multiple of the quantization block and of every vector width)
inline constexpr int64_t kNB = 8;    // weight rows dequantized per chunk

using TileFn = void (*)(const float* x, int64_t ldx, const float* b, int64_t ldb, int64_t kl, float* y,
                       int64_t ldy, bool accumulate);

// table[i][j] = Tile<i + 1, j + 1>::Run: one instantiation per partial tile shape.
template <template <int, int> class Tile, int MT, int... J>
constexpr std::array<TileFn, sizeof...(J)> TileRow(std::integer_sequence<int, J...>) {
  return {&Tile<MT, J + 1>::Run...};
}
template <template <int, int> class Tile, int NR, int... I>
constexpr std::array<std::array<TileFn, NR>, sizeof...(I)> TileTable(std::integer_sequence<int, I...>) {
  return {TileRow<Tile, I + 1>(std::make_integer_sequence<int, NR>())...};
}

using GemvFn = void (*)(const Problem& p, int64_t n0, int64_t n1, int64_t t0);
template <class Kern, int... I>
constexpr std::array<GemvFn, sizeof...(I)> GemvTable(std::integer_sequence<int, I...>) {
  return {&Kern::template Gemv<I + 1>...};
}

// y[t, n] for all t and n0 <= n < n1.
template <class Kern>
void TiledRows(const Problem& p, int64_t n0, int64_t n1) {
  if (p.T == 1) {
    Kern::template Gemv<1>(p, n0, n1, 0);
    return;
  }
  if (p.T <= Kern::kFusedMaxT) {
    // Weight rows in groups small enough to stay in L2 between the passes over activation rows.
    static constexpr auto kGemv = GemvTable<Kern>(std::make_integer_sequence<int, Kern::kGemvMT>());
    const int64_t group = std::max<int64_t>(1, (int64_t{32} << 10) / std::max<int64_t>(1, p.row_bytes));
    for (int64_t g = n0; g < n1; g += group)
      for (int64_t t0 = 0; t0 < p.T; t0 += Kern::kGemvMT)
        kGemv[std::min<int64_t>(Kern::kGemvMT, p.T - t0) - 1](p, g, std::min(n1, g + group), t0);
    return;
  }
  static constexpr auto kTiles =
      TileTable<Kern::template Tile, Kern::kNR>(std::make_integer_sequence<int, Kern::kMT>());
  alignas(64) float buf[kNB * kKC];
  const bool in_place = p.dtype == DType::kF32;
  for (int64_t nb = n0; nb < n1; nb += kNB) {
    const int64_t rows = std::min(kNB, n1 - nb);
    for (int64_t k0 = 0; k0 < p.K; k0 += kKC) {
      const int64_t kl = std::min(kKC, p.K - k0);
      const float* b;
      int64_t ldb;
      if (in_place) {
        b = reinterpret_cast<const float*>(p.w + nb * p.row_bytes) + k0;
        ldb = p.K;
      } else {
        for (int64_t r = 0; r < rows; ++r)
          Kern::Dequant(p.dtype, p.w + (nb + r) * p.row_bytes, k0, kl, buf + r * kKC);
        b = buf;
        ldb = kKC;
      }
      for (int64_t t = 0; t < p.T; t += Kern::kMT) {
        const int mt = static_cast<int>(std::min<int64_t>(Kern::kMT, p.T - t));
        for (int64_t r = 0; r < rows; r += Kern::kNR) {
          const int nr = static_cast<int>(std::min<int64_t>(Kern::kNR, rows - r));
          kTiles[mt - 1][nr - 1](p.x + t * p.K + k0, p.K, b + r * ldb, ldb, kl, p.y + t * p.N + nb + r, p.N,
                                 /*accumulate=*/k0 > 0);
        }
      }
    }
  }
}

}  // namespace strata::kernels::internal
