#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
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
  EXPECT_FALSE(IsSupportedGgmlType(12));
  EXPECT_STREQ(GgmlTypeName(12), "q4_k");
  EXPECT_STREQ(GgmlTypeName(4), "");
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
