#include "core/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/k_quants.h"
#include "core/quants_q4_1_q5.h"
#include "core/k_quants_q2_q3_q5.h"

namespace strata {
namespace {

struct GgmlType {
  uint32_t id;
  const char* name;
  int64_t block_elems;
  int64_t block_bytes;
};

// Every type ggml defines (ids with no entry were removed from ggml and never appear in valid files).
constexpr GgmlType kGgmlTypes[] = {
    {0, "f32", 1, 4},        {1, "f16", 1, 2},        {2, "q4_0", 32, 18},    {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},     {7, "q5_1", 32, 24},     {8, "q8_0", 32, 34},    {9, "q8_1", 32, 36},
    {10, "q2_k", 256, 84},   {11, "q3_k", 256, 110},  {12, "q4_k", 256, 144}, {13, "q5_k", 256, 176},
    {14, "q6_k", 256, 210},  {15, "q8_k", 256, 292},  {16, "iq2_xxs", 256, 66}, {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50}, {20, "iq4_nl", 32, 18}, {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82},  {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},      {25, "i16", 1, 2},
    {26, "i32", 1, 4},       {27, "i64", 1, 8},       {28, "f64", 1, 8},      {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},      {34, "tq1_0", 256, 54},  {35, "tq2_0", 256, 66}, {39, "mxfp4", 32, 17},
};

// The block structs Strata computes on have exactly ggml's layout for their type id.
constexpr bool GgmlLayoutIs(uint32_t id, int64_t block_elems, size_t block_bytes) {
  for (const auto& t : kGgmlTypes)
    if (t.id == id) return t.block_elems == block_elems && t.block_bytes == static_cast<int64_t>(block_bytes);
  return false;
}
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ8_0), kQK, sizeof(BlockQ8_0)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ4_0), kQK, sizeof(BlockQ4_0)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ4_1), kQK, sizeof(BlockQ4_1)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ5_0), kQK, sizeof(BlockQ5_0)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ5_1), kQK, sizeof(BlockQ5_1)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ4_K), kQK_K, sizeof(BlockQ4_K)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ6_K), kQK_K, sizeof(BlockQ6_K)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ2_K), kQK_K, sizeof(BlockQ2_K)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ3_K), kQK_K, sizeof(BlockQ3_K)));
static_assert(GgmlLayoutIs(static_cast<uint32_t>(DType::kQ5_K), kQK_K, sizeof(BlockQ5_K)));

const GgmlType* FindGgml(uint32_t id) {
  for (const auto& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

constexpr DTypeTraits kF32{"f32", 1, 4}, kF16{"f16", 1, 2}, kBF16{"bf16", 1, 2}, kQ8_0{"q8_0", 32, 34},
    kQ4_0{"q4_0", 32, 18}, kQ4_K{"q4_k", kQK_K, sizeof(BlockQ4_K)}, kQ6_K{"q6_k", kQK_K, sizeof(BlockQ6_K)},
    kI32{"i32", 1, 4};
constexpr DTypeTraits kQ4_1{"q4_1", kQK, sizeof(BlockQ4_1)}, kQ5_0{"q5_0", kQK, sizeof(BlockQ5_0)},
    kQ5_1{"q5_1", kQK, sizeof(BlockQ5_1)};
constexpr DTypeTraits kQ2_K{"q2_k", kQK_K, sizeof(BlockQ2_K)}, kQ3_K{"q3_k", kQK_K, sizeof(BlockQ3_K)},
    kQ5_K{"q5_k", kQK_K, sizeof(BlockQ5_K)};

}  // namespace

const DTypeTraits& Traits(DType t) {
  switch (t) {
    case DType::kF32: return kF32;
    case DType::kF16: return kF16;
    case DType::kBF16: return kBF16;
    case DType::kQ8_0: return kQ8_0;
    case DType::kQ4_0: return kQ4_0;
    case DType::kQ4_1: return kQ4_1;
    case DType::kQ5_0: return kQ5_0;
    case DType::kQ5_1: return kQ5_1;
    case DType::kQ4_K: return kQ4_K;
    case DType::kQ6_K: return kQ6_K;
    case DType::kQ2_K: return kQ2_K;
    case DType::kQ3_K: return kQ3_K;
    case DType::kQ5_K: return kQ5_K;
    case DType::kI32: return kI32;
  }
  return kF32;
}

bool IsSupportedGgmlType(uint32_t id) {
  switch (static_cast<DType>(id)) {
    case DType::kF32: case DType::kF16: case DType::kBF16: case DType::kQ8_0: case DType::kQ4_0: case DType::kQ4_K:
    case DType::kQ6_K: case DType::kI32:
    case DType::kQ4_1: case DType::kQ5_0: case DType::kQ5_1:
    case DType::kQ2_K: case DType::kQ3_K: case DType::kQ5_K:
      return true;
  }
  return false;
}

const char* GgmlTypeName(uint32_t id) {
  const GgmlType* t = FindGgml(id);
  return t ? t->name : "";
}

bool GgmlTypeBlock(uint32_t id, int64_t* block_elems, int64_t* block_bytes) {
  const GgmlType* t = FindGgml(id);
  if (!t) return false;
  *block_elems = t->block_elems;
  *block_bytes = t->block_bytes;
  return true;
}

float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t Fp32ToFp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
  if (absx < 0x38800000u) {  // subnormal or zero in half
    // value * 2^24 rounded to nearest even gives the subnormal mantissa.
    float a;
    std::memcpy(&a, &absx, 4);
    const float scaled = a * 16777216.0f;
    const uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));
    return static_cast<uint16_t>(sign | m);
  }
  const uint32_t mant_odd = (absx >> 13) & 1u;
  const uint32_t rounded = absx + 0xfffu + mant_odd;
  return static_cast<uint16_t>(sign | (((rounded >> 13) - (112u << 10)) & 0x7fffu));
}

uint16_t Fp32ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

void DequantizeRow(DType t, const void* src, float* dst, int64_t n) {
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFp32(s[i]);
      return;
    }
    case DType::kBF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFp32(s[i]);
      return;
    }
    case DType::kQ8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = Fp16ToFp32(b[k].d);
        for (int j = 0; j < kQK; ++j) dst[k * kQK + j] = static_cast<float>(b[k].qs[j]) * d;
      }
      return;
    }
    case DType::kQ4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float d = Fp16ToFp32(b[k].d);
        for (int j = 0; j < kQK / 2; ++j) {
          dst[k * kQK + j] = static_cast<float>((b[k].qs[j] & 0x0f) - 8) * d;
          dst[k * kQK + j + kQK / 2] = static_cast<float>((b[k].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    case DType::kQ4_1: return DequantizeRowQ4_1(static_cast<const BlockQ4_1*>(src), dst, n);
    case DType::kQ5_0: return DequantizeRowQ5_0(static_cast<const BlockQ5_0*>(src), dst, n);
    case DType::kQ5_1: return DequantizeRowQ5_1(static_cast<const BlockQ5_1*>(src), dst, n);
    case DType::kQ4_K:
      return DequantizeRowQ4_K(static_cast<const BlockQ4_K*>(src), dst, n);
    case DType::kQ6_K:
      return DequantizeRowQ6_K(static_cast<const BlockQ6_K*>(src), dst, n);
    case DType::kQ2_K: return DequantizeRowQ2_K(static_cast<const BlockQ2_K*>(src), dst, n);
    case DType::kQ3_K: return DequantizeRowQ3_K(static_cast<const BlockQ3_K*>(src), dst, n);
    case DType::kQ5_K: return DequantizeRowQ5_K(static_cast<const BlockQ5_K*>(src), dst, n);
    case DType::kI32: {
      const auto* s = static_cast<const int32_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
  }
}

void QuantizeRow(DType t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = Fp32ToFp16(src[i]);
      return;
    }
    case DType::kBF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = Fp32ToBf16(src[i]);
      return;
    }
    case DType::kQ8_0: {
      auto* b = static_cast<BlockQ8_0*>(dst);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float* x = src + k * kQK;
        float amax = 0;
        for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[k].d = Fp32ToFp16(d);
        for (int j = 0; j < kQK; ++j) b[k].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
      }
      return;
    }
    case DType::kQ4_0: {
      auto* b = static_cast<BlockQ4_0*>(dst);
      for (int64_t k = 0; k < n / kQK; ++k) {
        const float* x = src + k * kQK;
        float amax = 0, max = 0;
        for (int j = 0; j < kQK; ++j) {
          if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            max = x[j];
          }
        }
        const float d = max / -8.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        b[k].d = Fp32ToFp16(d);
        for (int j = 0; j < kQK / 2; ++j) {
          const int q0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
          const int q1 = std::min(15, static_cast<int>(x[j + kQK / 2] * id + 8.5f));
          b[k].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
      }
      return;
    }
    case DType::kQ4_1: return QuantizeRowQ4_1(src, static_cast<BlockQ4_1*>(dst), n);
    case DType::kQ5_0: return QuantizeRowQ5_0(src, static_cast<BlockQ5_0*>(dst), n);
    case DType::kQ5_1: return QuantizeRowQ5_1(src, static_cast<BlockQ5_1*>(dst), n);
    case DType::kQ4_K:
      return QuantizeRowQ4_K(src, static_cast<BlockQ4_K*>(dst), n);
    case DType::kQ6_K:
      return QuantizeRowQ6_K(src, static_cast<BlockQ6_K*>(dst), n);
    case DType::kQ2_K: return QuantizeRowQ2_K(src, static_cast<BlockQ2_K*>(dst), n);
    case DType::kQ3_K: return QuantizeRowQ3_K(src, static_cast<BlockQ3_K*>(dst), n);
    case DType::kQ5_K: return QuantizeRowQ5_K(src, static_cast<BlockQ5_K*>(dst), n);
    case DType::kI32: {
      auto* d = static_cast<int32_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int32_t>(src[i]);
      return;
    }
  }
}

}  // namespace strata
