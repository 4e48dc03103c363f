#include "core/dtype.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace strata {
namespace {

TEST(DType, GgmlIdsAndBlockSizes) {
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ8_0), 8u);
  EXPECT_EQ(Traits(DType::kQ8_0).block_bytes, 34);
  EXPECT_EQ(Traits(DType::kQ4_0).block_bytes, 18);
  EXPECT_EQ(RowBytes(DType::kQ4_0, 64), 36);
  EXPECT_EQ(RowBytes(DType::kBF16, 5), 10);
  EXPECT_TRUE(IsSupportedGgmlType(30));
  EXPECT_FALSE(IsSupportedGgmlType(16));  // iq2_xxs: a type Strata does not compute
  EXPECT_STREQ(GgmlTypeName(12), "q4_k");
  EXPECT_STREQ(GgmlTypeName(4), "");
}

TEST(DType, KQuantIdsAndBlockSizes) {
  // GGUF tensor type 12 is Q4_K and 14 is Q6_K; both load, and their DType has ggml's id, name and block layout.
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ4_K), 12u);
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ6_K), 14u);
  EXPECT_TRUE(IsSupportedGgmlType(12));
  EXPECT_TRUE(IsSupportedGgmlType(14));
  for (uint32_t unsupported : {15u, 16u}) EXPECT_FALSE(IsSupportedGgmlType(unsupported)) << unsupported;
  EXPECT_STREQ(Name(DType::kQ4_K), "q4_k");
  EXPECT_STREQ(Name(DType::kQ6_K), "q6_k");
  EXPECT_EQ(Traits(DType::kQ4_K).block_elems, 256);
  EXPECT_EQ(Traits(DType::kQ4_K).block_bytes, 144);
  EXPECT_EQ(Traits(DType::kQ6_K).block_elems, 256);
  EXPECT_EQ(Traits(DType::kQ6_K).block_bytes, 210);
  EXPECT_EQ(RowBytes(DType::kQ4_K, 4096), 16 * 144);
  EXPECT_EQ(RowBytes(DType::kQ6_K, 512), 2 * 210);
  for (DType t : {DType::kQ4_K, DType::kQ6_K}) {
    const uint32_t id = static_cast<uint32_t>(t);
    int64_t elems = 0, bytes = 0;
    ASSERT_TRUE(GgmlTypeBlock(id, &elems, &bytes));
    EXPECT_EQ(elems, Traits(t).block_elems);
    EXPECT_EQ(bytes, Traits(t).block_bytes);
    EXPECT_STREQ(GgmlTypeName(id), Name(t));
  }
}

TEST(DType, Fp16RoundTripsEveryHalf) {
  // Every finite half converts to float and back to the same bits.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;  // inf / NaN
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    ASSERT_EQ(Fp32ToFp16(f), h) << "half 0x" << std::hex << h;
  }
  EXPECT_EQ(Fp16ToFp32(0x3c00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0xc000), -2.0f);
  EXPECT_EQ(Fp16ToFp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
}

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFp32(0x3f80), 1.0f);
  float f;
  uint32_t u = 0x3f808000;  // exactly half-way: rounds to even (0x3f80)
  std::memcpy(&f, &u, 4);
  EXPECT_EQ(Fp32ToBf16(f), 0x3f80);
  u = 0x3f818000;  // half-way above an odd value: rounds up
  std::memcpy(&f, &u, 4);
  EXPECT_EQ(Fp32ToBf16(f), 0x3f82);
}

TEST(DType, Q8_0MatchesGgmlLayout) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) / 4.0f;  // amax 4 at i = 0
  BlockQ8_0 b;
  QuantizeRow(DType::kQ8_0, x.data(), &b, 32);
  EXPECT_EQ(b.d, Fp32ToFp16(4.0f / 127.0f));
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[16], 0);
  std::vector<float> y(32);
  DequantizeRow(DType::kQ8_0, &b, y.data(), 32);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(y[i], x[i], 4.0f / 127.0f);
}

TEST(DType, Q4_0MatchesGgmlLayout) {
  std::vector<float> x(32, 0.0f);
  x[3] = -8.0f;  // the signed max: d = -8 / -8 = 1
  x[20] = 7.0f;
  BlockQ4_0 b;
  QuantizeRow(DType::kQ4_0, x.data(), &b, 32);
  EXPECT_EQ(Fp16ToFp32(b.d), 1.0f);
  // element 3 is a low nibble, element 20 the high nibble of byte 4; q = trunc(x/d + 8.5), clamped to 15.
  EXPECT_EQ(b.qs[3] & 0x0f, 0);
  EXPECT_EQ(b.qs[4] >> 4, 15);
  std::vector<float> y(32);
  DequantizeRow(DType::kQ4_0, &b, y.data(), 32);
  EXPECT_EQ(y[3], -8.0f);
  EXPECT_EQ(y[20], 7.0f);
  EXPECT_EQ(y[0], 0.0f);
}

// ggml's Q4_K layout, written out independently of the library: 6-bit scales sc[j] and mins m[j] for the 8
// sub-blocks of 32, and value = d * sc[j] * q - dmin * m[j].
TEST(DType, Q4_KDequantizesHandBuiltBlock) {
  const int sc[8] = {1, 2, 3, 4, 17, 33, 63, 50};  // sub-blocks 4..7 use the top 2 bits too
  const int m[8] = {0, 1, 2, 3, 20, 40, 63, 5};
  BlockQ4_K b{};
  b.d = Fp32ToFp16(0.5f);
  b.dmin = Fp32ToFp16(0.25f);
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(sc[j] | (sc[j + 4] >> 4) << 6);
    b.scales[j + 4] = static_cast<uint8_t>(m[j] | (m[j + 4] >> 4) << 6);
    b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
  }
  // Element e: byte 32 (e / 64) + e % 32 of qs, low nibble when e % 64 < 32.
  const auto quant = [](int e) { return (e * 7 + 3) % 16; };
  for (int e = 0; e < 256; ++e) {
    uint8_t& byte = b.qs[32 * (e / 64) + e % 32];
    byte = static_cast<uint8_t>(e % 64 < 32 ? (byte & 0xf0) | quant(e) : (byte & 0x0f) | quant(e) << 4);
  }
  std::vector<float> y(256);
  DequantizeRow(DType::kQ4_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    ASSERT_EQ(y[e], 0.5f * sc[j] * quant(e) - 0.25f * m[j]) << "element " << e;
  }
  EXPECT_EQ(y[0], 1.5f);      // q 3, sc 1, m 0
  EXPECT_EQ(y[40], 10.75f);   // high nibble of qs[8]: q 11, sc 2, m 1: 0.5 * 2 * 11 - 0.25
  EXPECT_EQ(y[160], 39.5f);   // sub-block 5: q 3, sc 33, m 40: 49.5 - 10
  EXPECT_EQ(y[255], 298.75f);  // sub-block 7: q 12, sc 50, m 5: 300 - 1.25
}

// ggml's Q6_K layout, written out independently: signed 8-bit scales per 16 elements, 6-bit quants split into
// 4 low bits (ql) and 2 high bits (qh); value = d * scales[e / 16] * (q - 32).
TEST(DType, Q6_KDequantizesHandBuiltBlock) {
  BlockQ6_K b{};
  b.d = Fp32ToFp16(0.125f);
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<int8_t>(i * 9 - 70);
  const auto quant = [](int e) { return (e * 13 + 5) % 64; };
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, r = (e % 128) / 32, l = e % 32;  // half, quarter of the half, position
    uint8_t& low = b.ql[64 * h + 32 * (r % 2) + l];
    low = static_cast<uint8_t>(r < 2 ? (low & 0xf0) | (quant(e) & 15) : (low & 0x0f) | (quant(e) & 15) << 4);
    b.qh[32 * h + l] |= static_cast<uint8_t>((quant(e) >> 4) << (2 * r));
  }
  std::vector<float> y(256);
  DequantizeRow(DType::kQ6_K, &b, y.data(), 256);
  for (int e = 0; e < 256; ++e)
    ASSERT_EQ(y[e], 0.125f * static_cast<float>(e / 16 * 9 - 70) * static_cast<float>(quant(e) - 32)) << e;
  EXPECT_EQ(y[0], 236.25f);   // q 5, scale -70: 0.125 * -70 * -27
  EXPECT_EQ(y[100], 14.0f);   // high nibble of ql[36], bits 6-7 of qh[4]: q 25, scale -16: 0.125 * -16 * -7
  EXPECT_EQ(y[255], 195.0f);  // q 56, scale 65: 0.125 * 65 * 24
}

// Zeros stay exact zeros.
TEST(DType, KQuantsOfZerosAreZeros) {
  std::vector<float> x(512, 0.0f), y(512, 1.0f);
  for (DType t : {DType::kQ4_K, DType::kQ6_K}) {
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(t, 512)), 0xff);
    QuantizeRow(t, x.data(), q.data(), 512);
    DequantizeRow(t, q.data(), y.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << Name(t);
  }
}

// Random rows through QuantizeRow and back: each element within a step of its sub-block's grid, and the RMS
// error of Q6_K (64 levels, a scale per 16) several times below Q4_K's (16 levels, a scale and min per 32).
TEST(DType, KQuantRoundTripErrorIsBounded) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(256 * 16), y(x.size());
  for (auto& v : x) v = dist(rng);
  for (size_t i = 0; i < 256; ++i) x[i] *= 100.0f;  // one super-block at another magnitude
  for (size_t i = 256; i < 512; ++i) x[i] = std::fabs(x[i]) + 3.0f;  // and one all positive (min 0 for Q4_K)
  double rms[2] = {};
  for (int k = 0; k < 2; ++k) {
    const DType t = k == 0 ? DType::kQ4_K : DType::kQ6_K;
    const int sub = t == DType::kQ4_K ? 32 : 16, levels = t == DType::kQ4_K ? 15 : 63;
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(t, static_cast<int64_t>(x.size()))));
    QuantizeRow(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    double err2 = 0, x2 = 0, worst = 0;  // worst: largest error in grid steps
    for (size_t b = 0; b < x.size(); b += static_cast<size_t>(sub)) {
      float lo = 0, hi = 0;  // Q4_K's grid always includes 0; Q6_K's is symmetric about it
      for (size_t i = b; i < b + static_cast<size_t>(sub); ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      const float range = t == DType::kQ4_K ? hi - lo : 2 * std::max(hi, -lo);
      for (size_t i = b; i < b + static_cast<size_t>(sub); ++i) {
        ASSERT_LE(std::fabs(y[i] - x[i]), range / levels) << Name(t) << " at " << i << ": " << x[i] << " -> " << y[i];
        worst = std::max(worst, static_cast<double>(std::fabs(y[i] - x[i]) / (range / levels)));
      }
    }
    for (size_t i = 256; i < x.size(); ++i) {  // the unit-variance part
      err2 += (y[i] - x[i]) * (y[i] - x[i]);
      x2 += x[i] * x[i];
    }
    rms[k] = std::sqrt(err2 / x2);
    std::printf("[ %s ] relative RMS round-trip error %.4f, worst error %.2f grid steps\n", Name(t), rms[k], worst);
  }
  EXPECT_LT(rms[0], 0.08);   // Q4_K (0.053 measured)
  EXPECT_LT(rms[1], 0.025);  // Q6_K (0.014 measured)
  EXPECT_LT(rms[1] * 3, rms[0]);
}

TEST(DType, QuantizedRoundTripErrorIsBounded) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(32 * 9), y(x.size());
  for (auto& v : x) v = dist(rng);
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kF16, DType::kBF16}) {
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(t, static_cast<int64_t>(x.size()))));
    QuantizeRow(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    for (size_t b = 0; b < x.size(); b += 32) {
      float amax = 0;
      for (size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float bound = t == DType::kQ4_0 ? amax / 8 : t == DType::kQ8_0 ? amax / 127 : amax / 128;
      for (size_t i = b; i < b + 32; ++i) ASSERT_LE(std::fabs(y[i] - x[i]), bound * 1.01f) << Name(t) << " at " << i;
    }
  }
}

}  // namespace
}  // namespace strata
