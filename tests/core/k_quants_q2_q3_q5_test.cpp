// Q2_K, Q3_K and Q5_K: ggml's type ids and block sizes; dequantization of hand-built blocks against values
// computed by hand from ggml's layout, and of random blocks against a reference that walks the block the way
// ggml's dequantize_row_q*_K does (pointers and shifting masks, not the library's per-element accessors);
// the quantizers' round trip within a bound of each sub-block's grid.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"

namespace strata {
namespace {

constexpr DType kTypes[] = {DType::kQ2_K, DType::kQ3_K, DType::kQ5_K};

TEST(KQuantsQ2Q3Q5, GgmlIdsAndBlockSizes) {
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ2_K), 10u);
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ3_K), 11u);
  EXPECT_EQ(static_cast<uint32_t>(DType::kQ5_K), 13u);
  EXPECT_EQ(Traits(DType::kQ2_K).block_bytes, 84);
  EXPECT_EQ(Traits(DType::kQ3_K).block_bytes, 110);
  EXPECT_EQ(Traits(DType::kQ5_K).block_bytes, 176);
  for (DType t : kTypes) {
    const auto id = static_cast<uint32_t>(t);
    EXPECT_TRUE(IsSupportedGgmlType(id));
    int64_t elems = 0, bytes = 0;
    ASSERT_TRUE(GgmlTypeBlock(id, &elems, &bytes));
    EXPECT_EQ(elems, 256);
    EXPECT_EQ(elems, Traits(t).block_elems);
    EXPECT_EQ(bytes, Traits(t).block_bytes);
    EXPECT_STREQ(GgmlTypeName(id), Name(t));
  }
  EXPECT_FALSE(IsSupportedGgmlType(15));  // q8_k: ggml's activation type, never in a model file
}

std::vector<float> Dequantize(DType t, const void* block) {
  std::vector<float> y(256);
  DequantizeRow(t, block, y.data(), 256);
  return y;
}

TEST(KQuantsQ2Q3Q5, Q2_KDequantizesHandBuiltBlock) {
  // value = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4), s = e / 16; element 128h + 32k + l is bits 2k
  // of qs[32h + l].
  BlockQ2_K b{};
  b.d = Fp32ToFp16(0.5f);
  b.dmin = Fp32ToFp16(0.25f);
  b.scales[0] = 0x21;   // sc 1, m 2
  b.scales[2] = 0x13;   // sc 3, m 1
  b.scales[4] = 0x05;   // sc 5, m 0
  b.scales[6] = 0xf0;   // sc 0, m 15
  b.scales[15] = 0x7a;  // sc 10, m 7
  b.qs[0] = 0xe4;       // elements 0, 32, 64, 96: q 0, 1, 2, 3
  b.qs[32 + 17] = 0x40;  // element 128 + 96 + 17 = 241: q 1
  const auto y = Dequantize(DType::kQ2_K, &b);
  EXPECT_EQ(y[0], -0.5f);     // 0.5 * 1 * 0 - 0.25 * 2
  EXPECT_EQ(y[32], 1.25f);    // 0.5 * 3 * 1 - 0.25 * 1
  EXPECT_EQ(y[64], 5.0f);     // 0.5 * 5 * 2
  EXPECT_EQ(y[96], -3.75f);   // 0 - 0.25 * 15
  EXPECT_EQ(y[241], 3.25f);   // 0.5 * 10 * 1 - 0.25 * 7
  EXPECT_EQ(y[1], -0.5f);     // q 0 in sub-block 0
  EXPECT_EQ(y[145], 0.0f);    // sub-block 9: scale and min 0
}

TEST(KQuantsQ2Q3Q5, Q3_KDequantizesHandBuiltBlock) {
  // value = d * (sc - 32) * (q - 4); sub-block s's 6-bit sc: low 4 bits in nibble s / 8 of scales[s % 8], top 2
  // bits at 2 (s / 4) of scales[8 + s % 4]; element e = 128h + 32k + l: low bits 2k of qs[32h + l], top bit
  // e / 32 of hmask[l].
  BlockQ3_K b{};
  b.d = Fp32ToFp16(2.0f);
  b.scales[0] = 0x01, b.scales[8] = 0x02;   // s 0: 33 -> 1
  b.scales[1] = 0xc0, b.scales[9] = 0x10;   // s 9: 12 | 1 << 4 = 28 -> -4
  b.scales[7] = 0xf0, b.scales[11] = 0xc0;  // s 15: 15 | 3 << 4 = 63 -> 31
  b.qs[0] = 0x03, b.hmask[0] = 0x01;        // element 0: q 7
  b.qs[32 + 16] = 0x02;                     // element 144: q 2
  b.qs[63] = 0x40, b.hmask[31] = 0x80;      // element 255: q 1 | 4 = 5
  const auto y = Dequantize(DType::kQ3_K, &b);
  EXPECT_EQ(y[0], 6.0f);      // 2 * 1 * 3
  EXPECT_EQ(y[5], -8.0f);     // 2 * 1 * -4
  EXPECT_EQ(y[144], 16.0f);   // 2 * -4 * -2
  EXPECT_EQ(y[255], 62.0f);   // 2 * 31 * 1
  EXPECT_EQ(y[32], 256.0f);   // sub-block 2: stored 0 -> scale -32; q 0: 2 * -32 * -4
}

TEST(KQuantsQ2Q3Q5, Q5_KDequantizesHandBuiltBlock) {
  // value = d * sc_j * q - dmin * m_j (6-bit sc, m packed as in Q4_K); element 64p + 32i + l: low 4 bits in
  // nibble i of qs[32p + l], top bit 2p + i of qh[l].
  BlockQ5_K b{};
  b.d = Fp32ToFp16(1.0f);
  b.dmin = Fp32ToFp16(0.5f);
  b.scales[0] = 2, b.scales[4] = 3;                        // j 0: sc 2, m 3
  b.scales[9] = 0x15, b.scales[1] = 0x80, b.scales[5] = 0x40;  // j 5: sc 5 | 2 << 4 = 37, m 1 | 1 << 4 = 17
  b.qs[0] = 0x0a, b.qh[0] = 0x01;                          // element 0: q 10 | 16 = 26
  b.qs[64 + 7] = 0x30, b.qh[7] = 0x20;                     // element 128 + 32 + 7 = 167: q 3 | 16 = 19
  const auto y = Dequantize(DType::kQ5_K, &b);
  EXPECT_EQ(y[0], 50.5f);     // 2 * 26 - 0.5 * 3
  EXPECT_EQ(y[1], -1.5f);     // q 0
  EXPECT_EQ(y[167], 694.5f);  // 37 * 19 - 0.5 * 17
  EXPECT_EQ(y[32], 0.0f);     // sub-block 1: scale and min 0
}

// The references: ggml's dequantize loops, written out from its description of the layouts.
void RefQ2_K(const BlockQ2_K& b, float* y) {
  const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
  const uint8_t* q = b.qs;
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = b.scales[is++];
        for (int l = 0; l < 16; ++l) *y++ = d * (sc & 0xf) * ((q[l + 16 * half] >> shift) & 3) - dmin * (sc >> 4);
      }
}

void RefQ3_K(const BlockQ3_K& b, float* y) {
  int8_t sc[16];
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? b.scales[s] & 0xf : b.scales[s - 8] >> 4;
    sc[s] = static_cast<int8_t>((low | ((b.scales[8 + s % 4] >> (2 * (s / 4))) & 3) << 4) - 32);
  }
  const float d = Fp16ToFp32(b.d);
  const uint8_t* q = b.qs;
  uint8_t m = 1;
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1))
      for (int half = 0; half < 2; ++half, ++is)
        for (int l = 0; l < 16; ++l)
          *y++ = d * sc[is] * (((q[l + 16 * half] >> shift) & 3) - ((b.hmask[l + 16 * half] & m) ? 0 : 4));
}

void RefQ5_K(const BlockQ5_K& b, float* y) {
  const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 8; j += 2, ql += 32, u1 = static_cast<uint8_t>(u1 << 2), u2 = static_cast<uint8_t>(u2 << 2)) {
    uint8_t sc[2], m[2];
    for (int i = 0; i < 2; ++i) {
      const int s = j + i;
      sc[i] = s < 4 ? b.scales[s] & 63 : (b.scales[s + 4] & 0xf) | (b.scales[s - 4] >> 6) << 4;
      m[i] = s < 4 ? b.scales[s + 4] & 63 : (b.scales[s + 4] >> 4) | (b.scales[s] >> 6) << 4;
    }
    for (int l = 0; l < 32; ++l) *y++ = d * sc[0] * ((ql[l] & 0xf) + (b.qh[l] & u1 ? 16 : 0)) - dmin * m[0];
    for (int l = 0; l < 32; ++l) *y++ = d * sc[1] * ((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - dmin * m[1];
  }
}

template <class Block>
void ExpectMatchesReference(DType t, void (*ref)(const Block&, float*)) {
  std::mt19937 rng(5);
  std::vector<Block> blocks(8);
  for (auto& b : blocks) {
    auto* bytes = reinterpret_cast<uint8_t*>(&b);
    for (size_t i = 0; i < sizeof(Block); ++i) bytes[i] = static_cast<uint8_t>(rng());
  }
  for (auto& b : blocks) {  // finite fp16 scales (random bytes may be inf / NaN)
    auto* bytes = reinterpret_cast<uint8_t*>(&b);
    const size_t d_at = t == DType::kQ3_K ? 108 : t == DType::kQ2_K ? 80 : 0;
    for (size_t i = d_at; i < d_at + (t == DType::kQ3_K ? 2 : 4); i += 2) {
      const uint16_t h = Fp32ToFp16(std::ldexp(static_cast<float>(rng() % 1000) / 1000.0f, -int(rng() % 8)));
      std::memcpy(bytes + i, &h, 2);
    }
  }
  std::vector<float> got(256 * blocks.size()), want(got.size());
  DequantizeRow(t, blocks.data(), got.data(), static_cast<int64_t>(got.size()));
  for (size_t k = 0; k < blocks.size(); ++k) ref(blocks[k], want.data() + 256 * k);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_FLOAT_EQ(got[i], want[i]) << Name(t) << " element " << i;
}

TEST(KQuantsQ2Q3Q5, RandomBlocksDequantizeAsGgmlLoopsDo) {
  ExpectMatchesReference<BlockQ2_K>(DType::kQ2_K, RefQ2_K);
  ExpectMatchesReference<BlockQ3_K>(DType::kQ3_K, RefQ3_K);
  ExpectMatchesReference<BlockQ5_K>(DType::kQ5_K, RefQ5_K);
}

TEST(KQuantsQ2Q3Q5, ZerosStayZeros) {
  std::vector<float> x(512, 0.0f), y(512, 1.0f);
  for (DType t : kTypes) {
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(t, 512)), 0xff);
    QuantizeRow(t, x.data(), q.data(), 512);
    DequantizeRow(t, q.data(), y.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << Name(t);
  }
}

// Random rows through QuantizeRow and back: every element within `steps` grid steps of its sub-block's range
// (Q2_K and Q5_K: [min(x, 0), max(x)] in 3 / 31 steps; Q3_K: [-amax, amax] in 7 steps), and the relative RMS
// error falling with the bits: Q2_K > Q3_K > Q5_K.
TEST(KQuantsQ2Q3Q5, RoundTripErrorIsBounded) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(256 * 16), y(x.size());
  for (auto& v : x) v = dist(rng);
  for (size_t i = 0; i < 256; ++i) x[i] *= 100.0f;                    // one super-block at another magnitude
  for (size_t i = 256; i < 512; ++i) x[i] = std::fabs(x[i]) + 3.0f;  // and one all positive
  double rms[3] = {};
  for (int k = 0; k < 3; ++k) {
    const DType t = kTypes[k];
    const int sub = t == DType::kQ5_K ? 32 : 16, levels = t == DType::kQ2_K ? 3 : t == DType::kQ3_K ? 7 : 31;
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(t, static_cast<int64_t>(x.size()))));
    QuantizeRow(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    double worst = 0;  // largest error in grid steps
    for (size_t b = 0; b < x.size(); b += static_cast<size_t>(sub)) {
      float lo = 0, hi = 0;
      for (size_t i = b; i < b + static_cast<size_t>(sub); ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
      const float step = (t == DType::kQ3_K ? 2 * std::max(hi, -lo) : hi - lo) / levels;
      for (size_t i = b; i < b + static_cast<size_t>(sub); ++i)
        worst = std::max(worst, static_cast<double>(std::fabs(y[i] - x[i]) / step));
    }
    double err2 = 0, x2 = 0;
    for (size_t i = 256; i < x.size(); ++i) err2 += (y[i] - x[i]) * (y[i] - x[i]), x2 += x[i] * x[i];
    rms[k] = std::sqrt(err2 / x2);
    std::printf("[ %s ] relative RMS round-trip error %.4f, worst error %.2f grid steps\n", Name(t), rms[k], worst);
    EXPECT_LE(worst, 1.0) << Name(t);
  }
  EXPECT_LT(rms[0], 0.30);  // Q2_K (0.216 measured)
  EXPECT_LT(rms[1], 0.16);  // Q3_K (0.125 measured)
  EXPECT_LT(rms[2], 0.035);  // Q5_K (0.026 measured)
  EXPECT_LT(rms[1], rms[0]);
  EXPECT_LT(rms[2] * 3, rms[1]);
}

}  // namespace
}  // namespace strata
