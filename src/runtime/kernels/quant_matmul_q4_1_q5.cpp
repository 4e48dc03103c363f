// Q4_1 / Q5_0 / Q5_1 in the integer matmul: packing, the scalar kernel over the packed layout and the
// reference over the original blocks (see quant_matmul_q4_1_q5.h).
#include "runtime/kernels/quant_matmul_q4_1_q5.h"

#include <cmath>
#include <cstring>

#include "core/quants_q4_1_q5.h"

namespace strata::kernels::internal {
namespace {

// One original block, whatever its type: fp16 d and m (0 when none) and the 32 unsigned quants.
struct Unpacked {
  uint16_t d = 0, m = 0;
  int q[kQK];
};

template <class Block>
Unpacked UnpackQ5(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof(b));
  Unpacked u;
  u.d = b.d;
  if constexpr (requires { b.m; }) u.m = b.m;
  for (int e = 0; e < kQK; ++e) u.q[e] = Q5Quant(b, e);
  return u;
}

Unpacked Unpack(DType t, const uint8_t* p) {
  if (t == DType::kQ5_0) return UnpackQ5<BlockQ5_0>(p);
  if (t == DType::kQ5_1) return UnpackQ5<BlockQ5_1>(p);
  BlockQ4_1 b;
  std::memcpy(&b, p, sizeof(b));
  Unpacked u;
  u.d = b.d;
  u.m = b.m;
  for (int e = 0; e < kQK; ++e) u.q[e] = Q4_1Quant(b, e);
  return u;
}

// The float steps of one block, shared by every kernel: y += s (d_w d_x), then, with a min, y += m (d_x Σ q_x).
inline float AddBlock(int32_t s, uint16_t dw, uint16_t mw, bool has_min, float dx, float ds, float acc) {
  acc = std::fma(static_cast<float>(s), Fp16ToFp32(dw) * dx, acc);
  return has_min ? std::fma(Fp16ToFp32(mw), ds, acc) : acc;
}

}  // namespace

void PackQ4_1Q5Block(const Tensor& w, int64_t g, int64_t b, uint8_t* dst) {
  const DType t = w.dtype();
  const Q4_1Q5Layout l = LayoutOf(t);
  const int64_t src_block = Traits(t).block_bytes;
  uint64_t hmask[8] = {};
  for (int64_t r = 0; r < kPackRows; ++r) {
    const Unpacked u = Unpack(t, static_cast<const uint8_t*>(w.row(g * kPackRows + r)) + b * src_block);
    std::memcpy(dst + 2 * r, &u.d, 2);
    if (l.m >= 0) std::memcpy(dst + l.m + 2 * r, &u.m, 2);
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 4; ++i) {
        const int e = 4 * j + i;
        dst[l.qs + 64 * j + 4 * r + i] = static_cast<uint8_t>((u.q[e] & 0x0f) | (u.q[e + 16] & 0x0f) << 4);
      }
    for (int e = 0; e < kQK; ++e) hmask[e / 4] |= static_cast<uint64_t>(u.q[e] >> 4 & 1) << (4 * r + e % 4);
  }
  if (l.hmask >= 0) std::memcpy(dst + l.hmask, hmask, sizeof(hmask));
}

void QuantRowsScalarQ4_1Q5(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  const Q4_1Q5Layout l = LayoutOf(w.dtype());
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < a.T; ++t)
      for (int64_t r = 0; r < kPackRows; ++r) {
        float acc = 0;
        for (int64_t b = 0; b < a.nb; ++b) {
          const uint8_t* blk = w.block(g, b);
          const int8_t* xq = a.q + t * a.K + 32 * b;
          uint64_t hmask[8] = {};
          if (l.hmask >= 0) std::memcpy(hmask, blk + l.hmask, sizeof(hmask));
          int32_t s = a.corr[t * a.nb + b];
          for (int v = 0; v < 8; ++v)
            for (int i = 0; i < 4; ++i) {
              const uint8_t byte = blk[l.qs + 64 * (v % 4) + 4 * r + i];
              const int high = static_cast<int>(hmask[v] >> (4 * r + i) & 1);
              s += ((v < 4 ? byte & 0x0f : byte >> 4) | high << 4) * xq[4 * v + i];
            }
          uint16_t dw, mw = 0;
          std::memcpy(&dw, blk + 2 * r, 2);
          if (l.m >= 0) std::memcpy(&mw, blk + l.m + 2 * r, 2);
          acc = AddBlock(s, dw, mw, l.m >= 0, a.d[t * a.nb + b], a.ds[t * a.nb + b], acc);
        }
        y[t * w.rows() + g * kPackRows + r] = acc;
      }
}

float ReferenceRowQ4_1Q5(DType t, const uint8_t* row, const QuantActs& a) {
  const int64_t src_block = Traits(t).block_bytes;
  const int32_t offset = Q4_1Q5Offset(t);
  float acc = 0;
  for (int64_t b = 0; b < a.nb; ++b) {
    const Unpacked u = Unpack(t, row + b * src_block);
    const int8_t* xq = a.q + 32 * b;
    int32_t s = 0;
    for (int e = 0; e < kQK; ++e) s += (u.q[e] - offset) * xq[e];
    acc = AddBlock(s, u.d, u.m, LayoutOf(t).m >= 0, a.d[b], a.ds[b], acc);
  }
  return acc;
}

}  // namespace strata::kernels::internal
