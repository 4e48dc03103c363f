// Q4_1, Q5_0 and Q5_1 against ggml's block layouts written out here from raw bytes (not through the library's
// structs or accessors): byte offsets, fp16 fields, the nibble order and the 5th-bit word, as ggml-common.h and
// ggml's dequantize_row_* define them. Plus ggml's reference quantization on hand-picked blocks, and the round
// trip error bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"

namespace strata {
namespace {

using Bytes = std::vector<uint8_t>;

void PutHalf(Bytes& b, size_t at, float v) {
  const uint16_t h = Fp32ToFp16(v);
  b[at] = static_cast<uint8_t>(h & 0xff);
  b[at + 1] = static_cast<uint8_t>(h >> 8);
}

// One block of `type`, built byte by byte: d (and m) at the front, then for Q5 the 5th bits as a little-endian
// uint32 (bit e for element e), then 16 bytes whose low nibble is element j and high nibble element j + 16.
struct HandBlock {
  DType type;
  float d, m;
  int q[32];  // 0..15 (Q4_1) or 0..31 (Q5)

  Bytes Encode() const {
    const bool has_min = type != DType::kQ5_0, q5 = type != DType::kQ4_1;
    Bytes b(static_cast<size_t>(Traits(type).block_bytes));
    PutHalf(b, 0, d);
    size_t at = 2;
    if (has_min) PutHalf(b, at, m), at += 2;
    if (q5) {
      uint32_t qh = 0;
      for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>(q[e] >> 4) << e;
      for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(qh >> (8 * i));
      at += 4;
    }
    for (int j = 0; j < 16; ++j)
      b[at + static_cast<size_t>(j)] = static_cast<uint8_t>((q[j] & 15) | (q[j + 16] & 15) << 4);
    EXPECT_EQ(at + 16, b.size());
    return b;
  }
  // ggml: Q4_1 / Q5_1 x = q * d + m; Q5_0 x = (q - 16) * d (d and m as rounded to fp16).
  float Value(int e) const {
    const float dh = Fp16ToFp32(Fp32ToFp16(d)), mh = Fp16ToFp32(Fp32ToFp16(m));
    if (type == DType::kQ5_0) return static_cast<float>(q[e] - 16) * dh;
    const float dq = static_cast<float>(q[e]) * dh;
    return dq + mh;
  }
};

TEST(QuantsQ4_1Q5, GgmlIdsNamesAndBlockSizes) {
  const struct {
    DType t;
    uint32_t id;
    const char* name;
    int64_t bytes;
  } cases[] = {{DType::kQ4_1, 3, "q4_1", 20}, {DType::kQ5_0, 6, "q5_0", 22}, {DType::kQ5_1, 7, "q5_1", 24}};
  for (const auto& c : cases) {
    EXPECT_EQ(static_cast<uint32_t>(c.t), c.id);
    EXPECT_TRUE(IsSupportedGgmlType(c.id));
    EXPECT_STREQ(Name(c.t), c.name);
    EXPECT_STREQ(GgmlTypeName(c.id), c.name);
    EXPECT_EQ(Traits(c.t).block_elems, 32);
    EXPECT_EQ(Traits(c.t).block_bytes, c.bytes);
    EXPECT_EQ(RowBytes(c.t, 96), 3 * c.bytes);
  }
}

TEST(QuantsQ4_1Q5, DequantizeHandBuiltBlocks) {
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    SCOPED_TRACE(Name(t));
    const int levels = t == DType::kQ4_1 ? 16 : 32;
    // Two blocks, so that the second block's offset in the row is exercised too; every quant value occurs, and
    // the 5th bit of elements 0..15 and 16..31 differ (ggml reads the latter from qh bits 16..31).
    HandBlock blocks[2] = {{t, 0.5f, -3.25f, {}}, {t, -0.0625f, 1.5f, {}}};
    for (int e = 0; e < 32; ++e) {
      blocks[0].q[e] = (e * 7 + 3) % levels;
      blocks[1].q[e] = levels - 1 - (e * 5) % levels;
    }
    Bytes row = blocks[0].Encode();
    const Bytes second = blocks[1].Encode();
    row.insert(row.end(), second.begin(), second.end());
    std::vector<float> y(64);
    DequantizeRow(t, row.data(), y.data(), 64);
    for (int k = 0; k < 2; ++k)
      for (int e = 0; e < 32; ++e) EXPECT_EQ(y[static_cast<size_t>(32 * k + e)], blocks[k].Value(e)) << k << " " << e;
  }
}

TEST(QuantsQ4_1Q5, QuantizeGivesGgmlBytesOnHandPickedBlocks) {
  // Q4_1: min -1, max 14: d = 15 / 15 = 1, m = -1, q = x + 1 (x + 1 + 0.5 truncated).
  std::vector<float> x(32);
  for (int e = 0; e < 32; ++e) x[static_cast<size_t>(e)] = static_cast<float>((e * 3) % 16) - 1.0f;
  Bytes b(20);
  QuantizeRow(DType::kQ4_1, x.data(), b.data(), 32);
  EXPECT_EQ(b[0] | b[1] << 8, Fp32ToFp16(1.0f));
  EXPECT_EQ(b[2] | b[3] << 8, Fp32ToFp16(-1.0f));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b[4 + static_cast<size_t>(j)], ((j * 3) % 16) | ((j + 16) * 3 % 16) << 4) << j;

  // Q5_0: the largest magnitude is -16 (element 5), so d = -16 / -16 = 1 and q = trunc(x + 16.5) = x + 16.
  for (int e = 0; e < 32; ++e) x[static_cast<size_t>(e)] = static_cast<float>((e * 11) % 31) - 15.0f;  // -15..15
  x[5] = -16.0f;
  b.assign(22, 0);
  QuantizeRow(DType::kQ5_0, x.data(), b.data(), 32);
  EXPECT_EQ(b[0] | b[1] << 8, Fp32ToFp16(1.0f));
  uint32_t qh = 0;
  for (int e = 0; e < 32; ++e)
    qh |= static_cast<uint32_t>((static_cast<int>(x[static_cast<size_t>(e)]) + 16) >> 4) << e;
  EXPECT_EQ(static_cast<uint32_t>(b[2] | b[3] << 8 | b[4] << 16) | static_cast<uint32_t>(b[5]) << 24, qh);
  for (int j = 0; j < 16; ++j) {
    const int q0 = static_cast<int>(x[static_cast<size_t>(j)]) + 16,
              q1 = static_cast<int>(x[static_cast<size_t>(j) + 16]) + 16;
    EXPECT_EQ(b[6 + static_cast<size_t>(j)], (q0 & 15) | (q1 & 15) << 4) << j;
  }

  // Q5_1: min 2, max 2 + 31 / 4: d = 0.25, m = 2, q = 4 (x - 2).
  for (int e = 0; e < 32; ++e) x[static_cast<size_t>(e)] = 2.0f + static_cast<float>((e * 13) % 32) * 0.25f;
  b.assign(24, 0);
  QuantizeRow(DType::kQ5_1, x.data(), b.data(), 32);
  EXPECT_EQ(b[0] | b[1] << 8, Fp32ToFp16(0.25f));
  EXPECT_EQ(b[2] | b[3] << 8, Fp32ToFp16(2.0f));
  qh = 0;
  for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>(((e * 13) % 32) >> 4) << e;
  EXPECT_EQ(static_cast<uint32_t>(b[4] | b[5] << 8 | b[6] << 16) | static_cast<uint32_t>(b[7]) << 24, qh);
  for (int j = 0; j < 16; ++j)
    EXPECT_EQ(b[8 + static_cast<size_t>(j)], (((j * 13) % 32) & 15) | ((((j + 16) * 13) % 32) & 15) << 4);
}

TEST(QuantsQ4_1Q5, RoundTripWithinHalfAStep) {
  // Each value lands within half a quantization step d of its block, plus what rounding d and m to fp16 moves
  // (at most 2^-11 relative each, d times the largest quant).
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.3f, 1.0f);
  std::vector<float> x(32 * 64), y(x.size());
  for (auto& v : x) v = normal(rng);
  for (int k = 0; k < 8; ++k) x[static_cast<size_t>(32 * k + 4)] = 0;  // and blocks of all zeros decode to zeros
  std::fill(x.begin() + 32 * 9, x.begin() + 32 * 10, 0.0f);
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    SCOPED_TRACE(Name(t));
    Bytes q(static_cast<size_t>(RowBytes(t, static_cast<int64_t>(x.size()))));
    QuantizeRow(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    for (size_t k = 0; k < x.size() / 32; ++k) {
      const auto [lo, hi] = std::minmax_element(x.begin() + 32 * k, x.begin() + 32 * k + 32);
      const float amax = std::max(std::fabs(*lo), std::fabs(*hi));
      const float d = t == DType::kQ5_0 ? amax / 16 : (*hi - *lo) / (t == DType::kQ4_1 ? 15 : 31);
      const float levels = t == DType::kQ4_1 ? 15 : 31;
      // Q5_0's q - 16 spans -16..15: a value at the opposite extreme to the block's largest is clamped to
      // 15 d, a whole step away (ggml does the same).
      const float step = t == DType::kQ5_0 ? d : d / 2;
      const float tol = step + (d * levels + std::fabs(*lo)) * 0x1p-11f + 1e-6f;
      for (size_t e = 32 * k; e < 32 * k + 32; ++e) ASSERT_NEAR(y[e], x[e], tol) << "element " << e;
    }
    for (size_t e = 32 * 9; e < 32 * 10; ++e) EXPECT_EQ(y[e], 0.0f);
  }
}

}  // namespace
}  // namespace strata
