// Every non-matmul kernel against its scalar reference on random, odd shapes.
#include <gtest/gtest.h>

#include <cstdio>
#include <utility>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "random_tensors.h"
#include "scattered_cache.h"
#include "runtime/plan_executor.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/embedding.h"
#include "runtime/kernels/rms_norm.h"
#include "runtime/kernels/rope.h"

namespace strata::kernels {
namespace {

using testing::Random;

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(Kernels, RmsNormMatchesReference) {
  ThreadPool pool(3);
  for (int64_t rows : {1, 3, 17})
    for (int64_t n : {1, 7, 33, 192, 1001}) {
      auto x = Random(static_cast<size_t>(rows * n), 1), w = Random(static_cast<size_t>(n), 2);
      std::vector<float> y(x.size()), ref(x.size());
      RmsNorm(x.data(), w.data(), y.data(), rows, n, 1e-5f, pool);
      RmsNormReference(x.data(), w.data(), ref.data(), rows, n, 1e-5f);
      EXPECT_LE(MaxAbsDiff(y, ref), 1e-5f) << rows << "x" << n;
    }
}

TEST(Kernels, RopeMatchesReference) {
  ThreadPool pool(2);
  const std::vector<float> ff = {1.0f, 1.0f, 2.5f, 8.0f, 1.0f, 3.0f, 1.5f, 1.0f, 4.0f, 1.0f, 1.0f, 2.0f,
                                 1.0f, 1.0f, 1.0f, 9.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f,
                                 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 32.0f};
  for (RopeMode mode : {RopeMode::kNorm, RopeMode::kNeox})
    for (auto [head_dim, rope_dim] : {std::pair<int64_t, int64_t>{2, 2}, {8, 8}, {32, 16}, {64, 64}, {96, 32}})
      for (int64_t heads : {1, 3})
        for (bool factors : {false, true}) {
          const int64_t rows = 6, width = heads * head_dim;
          std::vector<int32_t> pos = {0, 1, 7, 100, 4095, 100000};
          const RopeParams p{head_dim, rope_dim, 500000.0f, factors ? 0.25f : 1.0f, mode, factors ? ff.data() : nullptr,
                             factors ? 1.19f : 1.0f};
          auto x = Random(static_cast<size_t>(rows * width), 3), ref = x;
          Rope(x.data(), rows, width, p, pos.data(), pool);
          RopeReference(ref.data(), rows, width, p, pos.data());
          EXPECT_LE(MaxAbsDiff(x, ref), 2e-6f) << head_dim << "/" << rope_dim << " neox " << (mode == RopeMode::kNeox);
        }
}

// The reference against the formula in double (exact angles): the float running product ggml uses drifts
// little at small positions, so this pins pair layout, pass-through dims, freq_scale, freq_factors and
// attn_factor.
TEST(Kernels, RopeReferenceFollowsTheFormula) {
  const std::vector<float> ff = {1.0f, 2.0f, 4.0f, 1.5f, 1.0f, 8.0f};
  for (RopeMode mode : {RopeMode::kNorm, RopeMode::kNeox})
    for (float fs : {1.0f, 0.125f}) {
      const int64_t head_dim = 20, rope_dim = 12, heads = 2, half = rope_dim / 2, width = heads * head_dim;
      const double m = fs == 1.0f ? 1.0 : 0.8;  // attn_factor scales the rotated dims only
      const RopeParams p{head_dim, rope_dim, 10000.0f, fs, mode, ff.data(), static_cast<float>(m)};
      const std::vector<int32_t> pos = {0, 3, 11};
      const auto x = Random(static_cast<size_t>(3 * width), 21);
      auto y = x;
      RopeReference(y.data(), 3, width, p, pos.data());
      for (size_t r = 0; r < pos.size(); ++r)
        for (int64_t h = 0; h < heads; ++h) {
          const float* in = x.data() + static_cast<int64_t>(r) * width + h * head_dim;
          const float* out = y.data() + static_cast<int64_t>(r) * width + h * head_dim;
          for (int64_t i = 0; i < half; ++i) {
            const double theta = fs * pos[r] * std::pow(10000.0, -2.0 * static_cast<double>(i) / rope_dim) / ff[static_cast<size_t>(i)];
            const int64_t a = mode == RopeMode::kNorm ? 2 * i : i, b = mode == RopeMode::kNorm ? 2 * i + 1 : i + half;
            EXPECT_NEAR(out[a], m * (in[a] * std::cos(theta) - in[b] * std::sin(theta)), 1e-5) << i;
            EXPECT_NEAR(out[b], m * (in[a] * std::sin(theta) + in[b] * std::cos(theta)), 1e-5) << i;
          }
          for (int64_t d = rope_dim; d < head_dim; ++d) EXPECT_EQ(out[d], in[d]) << "pass-through dim " << d;
        }
    }
  // Position 0 is the identity; the first pair of position p rotates by p radians.
  std::vector<float> x = {1, 0, 1, 0}, y = x;
  const int32_t p0 = 0, p1 = 1;
  const RopeParams p{4, 4, 10000.0f};
  RopeReference(x.data(), 1, 4, p, &p0);
  EXPECT_EQ(x, y);
  RopeReference(y.data(), 1, 4, p, &p1);
  EXPECT_NEAR(y[0], std::cos(1.0f), 1e-6);
  EXPECT_NEAR(y[1], std::sin(1.0f), 1e-6);
  EXPECT_NEAR(y[2], std::cos(0.01f), 1e-6);  // base^(-2/4) = 0.01
}

// ggml's angle is a float running product, not an exact power: at position 100000 the last pairs of a 128-dim
// head are ~4e-3 rad off the exact angle, far more than float rounding of the angle; the kernel follows ggml.
TEST(Kernels, RopeAnglesFollowGgmlsFloatRecurrence) {
  const RopeParams p{128, 128, 500000.0f};
  std::vector<float> cs(128);
  RopeAngles(p, 100000, cs.data());
  const float theta_scale = std::pow(500000.0f, -2.0f / 128.0f);
  float theta = 100000.0f;
  for (int64_t i = 0; i < 64; ++i, theta *= theta_scale) {
    EXPECT_EQ(cs[static_cast<size_t>(2 * i)], std::cos(theta)) << i;
    EXPECT_EQ(cs[static_cast<size_t>(2 * i + 1)], std::sin(theta)) << i;
  }
}

TEST(Kernels, AttentionMatchesReference) {
  ThreadPool pool(3);
  // Block sizes 4 and 40: the SIMD path takes scores 16 positions at a time within a block.
  struct Case { int64_t heads, kv_heads, head_dim, past, rows, block; };
  for (const Case& c : {Case{1, 1, 4, 0, 1, 4}, Case{6, 2, 32, 0, 9, 4}, Case{6, 2, 32, 13, 1, 4},
                        Case{4, 4, 7, 3, 5, 4}, Case{8, 1, 16, 40, 3, 4}, Case{8, 2, 64, 100, 3, 40},
                        Case{4, 1, 48, 37, 2, 16}, Case{32, 2, 16, 5, 2, 4}}) {
    const int64_t kv_dim = c.kv_heads * c.head_dim, n_pos = c.past + c.rows;
    auto q = Random(static_cast<size_t>(c.rows * c.heads * c.head_dim), 4);
    auto k = Random(static_cast<size_t>(n_pos * kv_dim), 5), v = Random(static_cast<size_t>(n_pos * kv_dim), 6);
    std::vector<int32_t> pos(static_cast<size_t>(c.rows));
    for (int64_t t = 0; t < c.rows; ++t) pos[static_cast<size_t>(t)] = static_cast<int32_t>(c.past + t);
    std::vector<float> out(q.size()), ref(q.size());
    const AttentionShape s{c.heads, c.kv_heads, c.head_dim};
    const ScatteredCache paged(k, v, n_pos, kv_dim, c.rows, static_cast<uint32_t>(c.past + c.rows), c.block);
    Attention(q.data(), c.rows, pos.data(), paged.view(), s, out.data(), pool);
    AttentionReference(q.data(), c.rows, pos.data(), k.data(), v.data(), s, ref.data());
    EXPECT_LE(MaxAbsDiff(out, ref), 2e-5f) << c.heads << "/" << c.kv_heads << " d" << c.head_dim;
  }
}

TEST(Kernels, AttentionIsCausal) {
  // Changing a key/value after a query's position must not change that query's output.
  ThreadPool pool(1);
  const AttentionShape s{2, 1, 4};
  auto q = Random(2 * 8, 7), k = Random(3 * 4, 8), v = Random(3 * 4, 9);
  const int32_t pos[2] = {0, 1};
  std::vector<float> a(16), b(16);
  Attention(q.data(), 2, pos, ScatteredCache(k, v, 3, 4, 2, 1).view(), s, a.data(), pool);
  for (int i = 8; i < 12; ++i) k[static_cast<size_t>(i)] += 5.0f, v[static_cast<size_t>(i)] -= 3.0f;  // position 2
  Attention(q.data(), 2, pos, ScatteredCache(k, v, 3, 4, 2, 1).view(), s, b.data(), pool);
  EXPECT_EQ(a, b);
}

TEST(Kernels, ElementwiseMatchReference) {
  ThreadPool pool(2);
  for (int64_t n : {1, 5, 8191, 8193, 40000}) {
    auto a = Random(static_cast<size_t>(n), 10, 3.0f), b = Random(static_cast<size_t>(n), 11);
    std::vector<float> y(a.size()), ref(a.size());
    Add(a.data(), b.data(), y.data(), n, pool);
    AddReference(a.data(), b.data(), ref.data(), n);
    EXPECT_EQ(y, ref);
    Mul(a.data(), b.data(), y.data(), n, pool);
    MulReference(a.data(), b.data(), ref.data(), n);
    EXPECT_EQ(y, ref);
    Silu(a.data(), y.data(), n, pool);
    SiluReference(a.data(), ref.data(), n);
    EXPECT_LE(MaxAbsDiff(y, ref), 1e-6f * 10);
  }
}

// max |y - ref| / (1 + |ref|): absolute near 0, relative for large values.
float MaxRelDiff(const std::vector<float>& y, const std::vector<float>& ref) {
  float m = 0;
  for (size_t i = 0; i < y.size(); ++i) m = std::max(m, std::fabs(y[i] - ref[i]) / (1.0f + std::fabs(ref[i])));
  return std::isnan(m) ? INFINITY : m;
}

TEST(Kernels, ActivationsScaleAndSoftcapMatchReference) {
  ThreadPool pool(2);
  for (int64_t n : {1, 5, 8193, 40000}) {
    auto x = Random(static_cast<size_t>(n), 13, 4.0f);
    x[0] = 0.0f;
    if (n > 4) x[1] = -30.0f, x[2] = 30.0f, x[3] = 1e-4f;
    if (n > 6) x[4] = -100.0f, x[5] = 100.0f;  // e^-x past float's range both ways
    std::vector<float> y(x.size()), ref(x.size());
    GeluTanh(x.data(), y.data(), n, pool);
    GeluTanhReference(x.data(), ref.data(), n);
    EXPECT_LE(MaxRelDiff(y, ref), 2e-6f) << "gelu " << n;
    for (Activation act : {Activation::kSilu, Activation::kGeluTanh}) {
      Activate(act, x.data(), y.data(), n, pool);
      ActivateReference(act, x.data(), ref.data(), n);
      EXPECT_LE(MaxRelDiff(y, ref), 2e-6f) << "activate " << n;
    }
    Sigmoid(x.data(), y.data(), n, pool);
    SigmoidReference(x.data(), ref.data(), n);
    EXPECT_LE(MaxRelDiff(y, ref), 1e-6f) << "sigmoid " << n;
    Scale(x.data(), -0.37f, y.data(), n, pool);
    ScaleReference(x.data(), -0.37f, ref.data(), n);
    EXPECT_EQ(y, ref);
    for (float cap : {30.0f, 2.5f}) {
      Softcap(x.data(), cap, y.data(), n, pool);
      SoftcapReference(x.data(), cap, ref.data(), n);
      EXPECT_LE(MaxRelDiff(y, ref), 1e-6f) << "softcap " << cap << " n " << n;
    }
  }
  // The references pinned to known values: GELU's tanh form at 1, sigmoid at 0, softcap saturating at the cap.
  const float in[3] = {1.0f, 0.0f, 1000.0f};
  float out[3];
  GeluTanhReference(in, out, 1);
  EXPECT_NEAR(out[0], 0.84119199f, 1e-7);
  SigmoidReference(in + 1, out, 1);
  EXPECT_EQ(out[0], 0.5f);
  SoftcapReference(in, 30.0f, out, 3);
  EXPECT_NEAR(out[0], 30.0 * std::tanh(1.0 / 30.0), 1e-7);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 30.0f);
}

TEST(Kernels, MulRowsBroadcastsOneScalarPerRow) {
  ThreadPool pool(2);
  for (auto [rows, width] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {5, 4096}, {300, 33}}) {
    auto a = Random(static_cast<size_t>(rows * width), 14), b = Random(static_cast<size_t>(rows), 15);
    std::vector<float> y(a.size()), ref(a.size());
    MulRows(a.data(), rows, width, b.data(), y.data(), pool);
    MulRowsReference(a.data(), rows, width, b.data(), ref.data());
    EXPECT_EQ(y, ref);
    EXPECT_EQ(ref.back(), a.back() * b.back());
    EXPECT_EQ(ref.front(), a.front() * b.front());
  }
}

TEST(Kernels, EmbeddingDequantizesRows) {
  ThreadPool pool(2);
  const int64_t vocab = 11, dim = 512;  // two K-quant super-blocks
  auto table_f = Random(static_cast<size_t>(vocab * dim), 12);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K,
                  DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    Tensor table = Tensor::Empty(t, {vocab, dim});
    for (int64_t r = 0; r < vocab; ++r)
      QuantizeRow(t, table_f.data() + r * dim, table.mutable_data_as<uint8_t>() + r * table.row_bytes(), dim);
    const int32_t ids[4] = {10, 0, 3, 3};
    std::vector<float> y(4 * dim), ref(4 * dim);
    Embedding(table, ids, 4, y.data(), pool);
    EmbeddingReference(table, ids, 4, ref.data());
    EXPECT_EQ(y, ref) << Name(t);
    std::vector<float> row(static_cast<size_t>(dim));
    DequantizeRow(t, table.row(3), row.data(), dim);
    EXPECT_EQ(std::vector<float>(y.begin() + 2 * dim, y.begin() + 3 * dim), row);
  }
}

}  // namespace
}  // namespace strata::kernels

namespace strata {
namespace {

// The CPU backend registers a kernel for every IR op (a new op without one fails here, not mid-plan).
TEST(Kernels, CpuBackendHasAKernelForEveryIrOp) {
  for (int i = 0; i < ir::kNumOps; ++i)
    EXPECT_TRUE(PlanExecutor::HasKernel(static_cast<ir::Op>(i))) << ir::OpName(static_cast<ir::Op>(i));
}

}  // namespace
}  // namespace strata
