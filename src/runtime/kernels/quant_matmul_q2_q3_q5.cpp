// Q2_K, Q3_K and Q5_K in the integer matmul: packing, the scalar kernel over the packed layout and the
// reference over the original blocks. Both unpack a super-block's quants and scales and then take the same
// arithmetic (the *SuperBlock functions), which the VNNI kernel reproduces operation for operation.
#include <cmath>
#include <cstring>

#include "core/k_quants.h"
#include "core/k_quants_q2_q3_q5.h"
#include "runtime/kernels/quant_matmul_q2_q3_q5.h"

namespace strata::kernels::internal {
namespace {

// A super-block's quants (q[256], unsigned) and per-row scales, however they were stored.
struct SuperBlock {
  int32_t q[256];
  int32_t sc[16];
  int32_t m[16];
  float d = 0, dmin = 0;
};

const int8_t* ActBlock(const QuantActs& a, int64_t t, int64_t b) { return a.q + t * a.K + 32 * b; }

// Q2_K: per 32-group, each half's dot product times its scale and the half's Σ q_x times its min, summed as
// int32, each to float times d_x; d and dmin applied once per super-block.
float Q2_KSuperBlock(const SuperBlock& s, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  float main = 0, mins = 0;
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    const int8_t* xq = ActBlock(a, t, b);
    const int32_t* c = a.corr16 + t * 2 * a.nb + 2 * b;  // -32 Σ q_x per half
    int32_t dot[2] = {0, 0};
    for (int i = 0; i < 32; ++i) dot[i / 16] += s.q[32 * j + i] * xq[i];
    const int32_t main_i = dot[0] * s.sc[2 * j] + dot[1] * s.sc[2 * j + 1];
    const int32_t mins_i = s.m[2 * j] * (c[0] / -32) + s.m[2 * j + 1] * (c[1] / -32);
    main = std::fma(static_cast<float>(main_i), a.d[t * a.nb + b], main);
    mins = std::fma(static_cast<float>(mins_i), a.d[t * a.nb + b], mins);
  }
  return std::fma(-s.dmin, mins, std::fma(s.d, main, acc));
}

// Q3_K: per 32-group, each half's dot product of q (0..7) starting from -4 Σ q_x (the weights are q - 4),
// times its signed scale, summed as int32, to float times d_x; d applied once per super-block.
float Q3_KSuperBlock(const SuperBlock& s, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  float main = 0;
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    const int8_t* xq = ActBlock(a, t, b);
    const int32_t* c = a.corr16 + t * 2 * a.nb + 2 * b;
    int32_t dot[2] = {c[0] / 8, c[1] / 8};
    for (int i = 0; i < 32; ++i) dot[i / 16] += s.q[32 * j + i] * xq[i];
    const int32_t main_i = dot[0] * s.sc[2 * j] + dot[1] * s.sc[2 * j + 1];
    main = std::fma(static_cast<float>(main_i), a.d[t * a.nb + b], main);
  }
  return std::fma(s.d, main, acc);
}

// Q5_K: as Q4_K (quant_matmul.cpp): per sub-block of 32 the int dot product times the scale, to float, times
// d_x; the mins as m times d_x Σ q_x; d and dmin applied once per super-block.
float Q5_KSuperBlock(const SuperBlock& s, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  float main = 0, mins = 0;
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    const int8_t* xq = ActBlock(a, t, b);
    int32_t dot = 0;
    for (int i = 0; i < 32; ++i) dot += s.q[32 * j + i] * xq[i];
    main = std::fma(static_cast<float>(dot * s.sc[j]), a.d[t * a.nb + b], main);
    mins = std::fma(static_cast<float>(s.m[j]), a.ds[t * a.nb + b], mins);
  }
  return std::fma(-s.dmin, mins, std::fma(s.d, main, acc));
}

float SuperBlockDot(DType t, const SuperBlock& s, const QuantActs& a, int64_t row, int64_t sb, float acc) {
  if (t == DType::kQ2_K) return Q2_KSuperBlock(s, a, row, sb, acc);
  if (t == DType::kQ3_K) return Q3_KSuperBlock(s, a, row, sb, acc);
  return Q5_KSuperBlock(s, a, row, sb, acc);
}

float Half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return Fp16ToFp32(h);
}

// From the original block.
void Unpack(const BlockQ2_K& b, SuperBlock& s) {
  for (int e = 0; e < 256; ++e) s.q[e] = Q2_KQuant(b, e);
  for (int j = 0; j < 16; ++j) s.sc[j] = b.scales[j] & 0x0f, s.m[j] = b.scales[j] >> 4;
  s.d = Fp16ToFp32(b.d), s.dmin = Fp16ToFp32(b.dmin);
}
void Unpack(const BlockQ3_K& b, SuperBlock& s) {
  for (int e = 0; e < 256; ++e) s.q[e] = Q3_KQuant(b, e);
  for (int j = 0; j < 16; ++j) s.sc[j] = Q3_KScale(b.scales, j);
  s.d = Fp16ToFp32(b.d);
}
void Unpack(const BlockQ5_K& b, SuperBlock& s) {
  for (int e = 0; e < 256; ++e) s.q[e] = Q5_KQuant(b, e);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    Q4_KScaleMin(j, b.scales, &sc, &m);
    s.sc[j] = sc, s.m[j] = m;
  }
  s.d = Fp16ToFp32(b.d), s.dmin = Fp16ToFp32(b.dmin);
}

// From packed (group, super-block) blk, row r. Element l of 32-group j sits in byte 64 (l / 4) + 4 r + l % 4
// of each plane.
void UnpackPacked(DType t, const uint8_t* blk, int64_t r, SuperBlock& s) {
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) {
      const int64_t at = 64 * (l / 4) + 4 * r + l % 4;
      int q;
      if (t == DType::kQ5_K) {
        q = (blk[kQ5K_Qs + 512 * (j / 2) + at] >> (4 * (j % 2))) & 0x0f;
        q |= ((blk[kQ5K_Qh + at] >> j) & 1) << 4;
      } else {
        const int64_t qs = t == DType::kQ2_K ? kQ2K_Qs : kQ3K_Qs;
        q = (blk[qs + 512 * (j / 4) + at] >> (2 * (j % 4))) & 3;
        if (t == DType::kQ3_K) q |= ((blk[kQ3K_Qh + at] >> j) & 1) << 2;
      }
      s.q[32 * j + l] = q;
    }
  if (t == DType::kQ2_K) {
    for (int j = 0; j < 16; ++j) s.sc[j] = blk[kQ2K_Sc + 16 * j + r] & 0x0f, s.m[j] = blk[kQ2K_Sc + 16 * j + r] >> 4;
    s.d = Half(blk + kQ2K_D + 2 * r), s.dmin = Half(blk + kQ2K_Dmin + 2 * r);
  } else if (t == DType::kQ3_K) {
    for (int j = 0; j < 16; ++j) s.sc[j] = static_cast<int8_t>(blk[kQ3K_Sc + 16 * j + r]);
    s.d = Half(blk + kQ3K_D + 2 * r);
  } else {
    for (int j = 0; j < 8; ++j) s.sc[j] = blk[kQ5K_Sc + 16 * j + r], s.m[j] = blk[kQ5K_M + 16 * j + r];
    s.d = Half(blk + kQ5K_D + 2 * r), s.dmin = Half(blk + kQ5K_Dmin + 2 * r);
  }
}

// Copies the 8 units (32 bytes) of row r's plane `src` to the packed plane at dst.
void PackUnits(const uint8_t* src, int64_t r, uint8_t* dst) {
  for (int u = 0; u < 8; ++u) std::memcpy(dst + 64 * u + 4 * r, src + 4 * u, 4);
}

void PackBlock(const BlockQ2_K& b, int64_t r, uint8_t* dst) {
  std::memcpy(dst + kQ2K_D + 2 * r, &b.d, 2);
  std::memcpy(dst + kQ2K_Dmin + 2 * r, &b.dmin, 2);
  for (int j = 0; j < 16; ++j) dst[kQ2K_Sc + 16 * j + r] = b.scales[j];
  for (int h = 0; h < 2; ++h) PackUnits(b.qs + 32 * h, r, dst + kQ2K_Qs + 512 * h);
}

void PackBlock(const BlockQ3_K& b, int64_t r, uint8_t* dst) {
  std::memcpy(dst + kQ3K_D + 2 * r, &b.d, 2);
  for (int j = 0; j < 16; ++j) dst[kQ3K_Sc + 16 * j + r] = static_cast<uint8_t>(static_cast<int8_t>(Q3_KScale(b.scales, j)));
  for (int h = 0; h < 2; ++h) PackUnits(b.qs + 32 * h, r, dst + kQ3K_Qs + 512 * h);
  PackUnits(b.hmask, r, dst + kQ3K_Qh);
}

void PackBlock(const BlockQ5_K& b, int64_t r, uint8_t* dst) {
  std::memcpy(dst + kQ5K_D + 2 * r, &b.d, 2);
  std::memcpy(dst + kQ5K_Dmin + 2 * r, &b.dmin, 2);
  for (int j = 0; j < 8; ++j) Q4_KScaleMin(j, b.scales, dst + kQ5K_Sc + 16 * j + r, dst + kQ5K_M + 16 * j + r);
  for (int p = 0; p < 4; ++p) PackUnits(b.qs + 32 * p, r, dst + kQ5K_Qs + 512 * p);
  PackUnits(b.qh, r, dst + kQ5K_Qh);
}

template <class Block>
void PackAll(const Tensor& w, PackedWeight& p) {
  for (int64_t g = 0; g < p.rows() / kPackRows; ++g)
    for (int64_t sb = 0; sb < p.cols() / 256; ++sb) {
      auto* dst = const_cast<uint8_t*>(p.block(g, sb));
      for (int64_t r = 0; r < kPackRows; ++r) PackBlock(reinterpret_cast<const Block*>(w.row(g * kPackRows + r))[sb], r, dst);
    }
}

template <class Block>
float ReferenceRowOf(DType t, const uint8_t* row, const QuantActs& a) {
  float acc = 0;
  SuperBlock s;
  for (int64_t sb = 0; sb < a.K / 256; ++sb) {
    Unpack(reinterpret_cast<const Block*>(row)[sb], s);
    acc = SuperBlockDot(t, s, a, 0, sb, acc);
  }
  return acc;
}

}  // namespace

bool IsQ2Q3Q5K(DType t) { return t == DType::kQ2_K || t == DType::kQ3_K || t == DType::kQ5_K; }

int64_t Q2Q3Q5KBlockBytes(DType t) {
  return t == DType::kQ2_K ? kQ2K_BlockBytes : t == DType::kQ3_K ? kQ3K_BlockBytes : kQ5K_BlockBytes;
}

void PackQ2Q3Q5K(const Tensor& w, PackedWeight& p) {
  if (w.dtype() == DType::kQ2_K) return PackAll<BlockQ2_K>(w, p);
  if (w.dtype() == DType::kQ3_K) return PackAll<BlockQ3_K>(w, p);
  return PackAll<BlockQ5_K>(w, p);
}

void Q2Q3Q5KRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  SuperBlock s;
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < a.T; ++t)
      for (int64_t r = 0; r < kPackRows; ++r) {
        float acc = 0;
        for (int64_t sb = 0; sb < a.K / 256; ++sb) {
          UnpackPacked(w.dtype(), w.block(g, sb), r, s);
          acc = SuperBlockDot(w.dtype(), s, a, t, sb, acc);
        }
        y[t * w.rows() + g * kPackRows + r] = acc;
      }
}

float Q2Q3Q5KReferenceRow(DType t, const uint8_t* row, const QuantActs& a) {
  if (t == DType::kQ2_K) return ReferenceRowOf<BlockQ2_K>(t, row, a);
  if (t == DType::kQ3_K) return ReferenceRowOf<BlockQ3_K>(t, row, a);
  return ReferenceRowOf<BlockQ5_K>(t, row, a);
}

}  // namespace strata::kernels::internal
