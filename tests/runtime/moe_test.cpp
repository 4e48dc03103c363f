// MoE routing against a direct softmax / top-k / renormalise, and the grouped expert FFN against the
// token-by-token reference: every expert used, idle experts, one token, expert-parallel halves, quantized slices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/moe.h"

namespace strata::kernels {
namespace {

using testing::Random;

// The routing written out plainly: softmax in double, sort by probability (stable: ties keep the lower index
// first), keep k, divide by their sum.
void DirectRoute(const std::vector<float>& logits, int64_t rows, int64_t n, int64_t k, bool renorm,
                 std::vector<int32_t>& experts, std::vector<float>& weights) {
  experts.clear();
  weights.clear();
  for (int64_t t = 0; t < rows; ++t) {
    const float* l = logits.data() + t * n;
    const double max = *std::max_element(l, l + n);
    std::vector<double> p(static_cast<size_t>(n));
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += (p[static_cast<size_t>(i)] = std::exp(l[i] - max));
    for (auto& v : p) v /= sum;
    std::vector<int32_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&p](int32_t a, int32_t b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
    double top = 0;
    for (int64_t i = 0; i < k; ++i) top += p[static_cast<size_t>(idx[static_cast<size_t>(i)])];
    for (int64_t i = 0; i < k; ++i) {
      experts.push_back(idx[static_cast<size_t>(i)]);
      weights.push_back(static_cast<float>(p[static_cast<size_t>(idx[static_cast<size_t>(i)])] / (renorm ? top : 1.0)));
    }
  }
}

TEST(KernelsMoe, RouteMatchesSoftmaxTopKRenormalise) {
  for (auto [n, k] : {std::pair<int64_t, int64_t>{8, 2}, {60, 4}, {128, 8}, {4, 4}, {5, 1}})
    for (bool renorm : {false, true}) {
      const int64_t rows = 7;
      const auto logits = Random(static_cast<size_t>(rows * n), static_cast<uint32_t>(n + k), 2.0f);
      std::vector<int32_t> e(static_cast<size_t>(rows * k)), want_e;
      std::vector<float> w(e.size()), want_w;
      MoeRoute(logits.data(), rows, n, k, renorm, e.data(), w.data());
      DirectRoute(logits, rows, n, k, renorm, want_e, want_w);
      EXPECT_EQ(e, want_e) << n << " top " << k;
      for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], want_w[i], 1e-6) << n << " top " << k << " " << i;
      if (renorm) {
        EXPECT_NEAR(std::accumulate(w.begin(), w.begin() + k, 0.0), 1.0, 1e-6);
      }
    }
  // Ties go to the lower index; equal logits give equal weights.
  const std::vector<float> logits = {0.5f, 2.0f, 1.0f, 2.0f, 2.0f, -1.0f};
  int32_t e[3];
  float w[3];
  MoeRoute(logits.data(), 1, 6, 3, true, e, w);
  EXPECT_EQ(std::vector<int32_t>(e, e + 3), (std::vector<int32_t>{1, 3, 4}));
  for (float v : w) EXPECT_NEAR(v, 1.0f / 3, 1e-7);
}

// Stacked experts [n, ffn, dim] / [n, dim, ffn] in some dtype, the dense F32 values the reference sees, and a
// matmul callback over Tensor::Index slices that records each call.
struct Experts {
  int64_t n, dim, ffn;
  Tensor gate, up, down;
  std::vector<float> gate_f, up_f, down_f;
  std::map<std::pair<int64_t, int>, std::vector<int64_t>> calls;  // (expert, which) -> rows of each call

  static Tensor Stack(DType t, int64_t n, int64_t rows, int64_t cols, uint32_t seed, std::vector<float>& dense) {
    const auto src = Random(static_cast<size_t>(n * rows * cols), seed, 0.2f);
    Tensor w = Tensor::Empty(t, {n, rows, cols});
    dense.resize(src.size());
    for (int64_t r = 0; r < n * rows; ++r) {
      QuantizeRow(t, src.data() + r * cols, w.mutable_data_as<uint8_t>() + r * w.row_bytes(), cols);
      DequantizeRow(t, w.row(r), dense.data() + r * cols, cols);
    }
    return w;
  }
  Experts(DType t, int64_t n_, int64_t dim_, int64_t ffn_) : n(n_), dim(dim_), ffn(ffn_) {
    gate = Stack(t, n, ffn, dim, 40, gate_f);
    up = Stack(t, n, ffn, dim, 41, up_f);
    down = Stack(t, n, dim, ffn, 42, down_f);
  }
  MoeExpertMatMul Callback(ThreadPool& pool) {
    return {[this, &pool](int64_t e, int which, const float* x, float* y, int64_t rows) {
      calls[{e, which}].push_back(rows);
      const Tensor& w = which == kMoeGate ? gate : which == kMoeUp ? up : down;
      MatMul(w.Index(e), x, y, rows, pool);
    }};
  }
};

struct FfnRun {
  std::vector<float> out, ref;
  std::vector<int64_t> tokens;
};

FfnRun RunFfn(Experts& ex, const std::vector<float>& x, int64_t rows, const std::vector<int32_t>& experts,
           const std::vector<float>& weights, int64_t k, int64_t begin, int64_t end, Activation act, ThreadPool& pool) {
  FfnRun r;
  r.out.assign(static_cast<size_t>(rows * ex.dim), 123.0f);  // overwritten
  r.ref.resize(r.out.size());
  std::vector<float> scratch(static_cast<size_t>(MoeScratchFloats(rows, ex.dim, ex.ffn, k)));
  ex.calls.clear();
  MoeFfn(x.data(), rows, ex.dim, ex.ffn, begin, end, experts.data(), weights.data(), k, act, ex.Callback(pool),
         r.out.data(), scratch.data(), &r.tokens, pool);
  MoeFfnReference(x.data(), rows, ex.dim, ex.ffn, begin, end, experts.data(), weights.data(), k, act,
                  ex.gate_f.data(), ex.up_f.data(), ex.down_f.data(), r.ref.data());
  return r;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return std::isnan(m) ? INFINITY : m;
}

// Each local expert that got rows is multiplied once per projection, over all its rows; no other is.
void ExpectGroupedCalls(const Experts& ex, const FfnRun& r, int64_t begin, int64_t end) {
  ASSERT_EQ(static_cast<int64_t>(r.tokens.size()), end - begin);
  for (int64_t e = begin; e < end; ++e)
    for (int which : {kMoeGate, kMoeUp, kMoeDown}) {
      const auto it = ex.calls.find({e, which});
      const int64_t n = r.tokens[static_cast<size_t>(e - begin)];
      if (n == 0) {
        EXPECT_TRUE(it == ex.calls.end()) << "idle expert " << e << " multiplied";
      } else {
        ASSERT_TRUE(it != ex.calls.end()) << e;
        EXPECT_EQ(it->second, std::vector<int64_t>{n}) << "expert " << e << " projection " << which;
      }
    }
  for (const auto& [key, rows] : ex.calls) EXPECT_TRUE(key.first >= begin && key.first < end) << key.first;
}

TEST(KernelsMoe, FfnMatchesReferenceWithEveryExpertUsed) {
  ThreadPool pool(3);
  for (Activation act : {Activation::kSilu, Activation::kGeluTanh}) {
    Experts ex(DType::kF32, 4, 64, 96);
    const int64_t rows = 13, k = 2;
    const auto x = Random(static_cast<size_t>(rows * ex.dim), 50);
    const auto logits = Random(static_cast<size_t>(rows * ex.n), 51, 2.0f);
    std::vector<int32_t> experts(static_cast<size_t>(rows * k));
    std::vector<float> weights(experts.size());
    MoeRoute(logits.data(), rows, ex.n, k, true, experts.data(), weights.data());
    const FfnRun r = RunFfn(ex, x, rows, experts, weights, k, 0, ex.n, act, pool);
    for (int64_t t : r.tokens) ASSERT_GT(t, 0) << "the routing should use every expert";
    EXPECT_EQ(std::accumulate(r.tokens.begin(), r.tokens.end(), int64_t{0}), rows * k);
    EXPECT_LE(MaxAbsDiff(r.out, r.ref), 2e-5f);
    ExpectGroupedCalls(ex, r, 0, ex.n);
  }
}

TEST(KernelsMoe, FfnSkipsIdleExpertsAndHandlesOneToken) {
  ThreadPool pool(2);
  Experts ex(DType::kF32, 8, 32, 64);
  const int64_t k = 2;
  // Experts 0, 2, 4 and 7 get no rows; expert 3 is chosen by every row.
  const std::vector<int32_t> experts = {3, 5, 1, 3, 3, 6, 5, 3};
  const std::vector<float> weights = {0.7f, 0.3f, 0.5f, 0.5f, 0.9f, 0.1f, 0.2f, 0.8f};
  const auto x = Random(static_cast<size_t>(4 * ex.dim), 52);
  const FfnRun r = RunFfn(ex, x, 4, experts, weights, k, 0, 8, Activation::kSilu, pool);
  EXPECT_EQ(r.tokens, (std::vector<int64_t>{0, 1, 0, 4, 0, 2, 1, 0}));
  EXPECT_LE(MaxAbsDiff(r.out, r.ref), 2e-5f);
  ExpectGroupedCalls(ex, r, 0, 8);
  // One token, k = 1 and k = 3.
  for (int64_t k1 : {1, 3}) {
    const std::vector<int32_t> e1 = {6, 0, 2};
    const std::vector<float> w1 = {0.6f, 0.25f, 0.15f};
    const FfnRun one = RunFfn(ex, x, 1, std::vector<int32_t>(e1.begin(), e1.begin() + k1),
                           std::vector<float>(w1.begin(), w1.begin() + k1), k1, 0, 8, Activation::kGeluTanh, pool);
    EXPECT_LE(MaxAbsDiff(one.out, one.ref), 2e-5f) << k1;
    ExpectGroupedCalls(ex, one, 0, 8);
  }
}

TEST(KernelsMoe, ExpertRangesSumToTheFullFfn) {
  ThreadPool pool(2);
  Experts ex(DType::kF32, 6, 64, 32);
  const int64_t rows = 9, k = 3;
  const auto x = Random(static_cast<size_t>(rows * ex.dim), 53);
  const auto logits = Random(static_cast<size_t>(rows * ex.n), 54, 2.0f);
  std::vector<int32_t> experts(static_cast<size_t>(rows * k));
  std::vector<float> weights(experts.size());
  MoeRoute(logits.data(), rows, ex.n, k, false, experts.data(), weights.data());
  const FfnRun full = RunFfn(ex, x, rows, experts, weights, k, 0, 6, Activation::kSilu, pool);
  const FfnRun lo = RunFfn(ex, x, rows, experts, weights, k, 0, 2, Activation::kSilu, pool);
  ExpectGroupedCalls(ex, lo, 0, 2);
  const FfnRun hi = RunFfn(ex, x, rows, experts, weights, k, 2, 6, Activation::kSilu, pool);
  ExpectGroupedCalls(ex, hi, 2, 6);
  EXPECT_LE(MaxAbsDiff(full.out, full.ref), 2e-5f);
  EXPECT_LE(MaxAbsDiff(lo.out, lo.ref), 2e-5f);
  EXPECT_LE(MaxAbsDiff(hi.out, hi.ref), 2e-5f);
  std::vector<float> sum(full.out.size());
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = lo.out[i] + hi.out[i];
  EXPECT_LE(MaxAbsDiff(sum, full.out), 2e-5f);
  EXPECT_GT(MaxAbsDiff(lo.out, full.out), 1e-3f);  // each half alone is not the whole
  EXPECT_GT(MaxAbsDiff(hi.out, full.out), 1e-3f);
}

// The executor's case: quantized stacked experts, each expert's slice a Tensor::Index view.
TEST(KernelsMoe, FfnOverQuantizedExpertSlices) {
  ThreadPool pool(2);
  for (DType t : {DType::kQ8_0, DType::kQ4_K}) {
    Experts ex(t, 4, 256, 512);
    const int64_t rows = 5, k = 2;
    const auto x = Random(static_cast<size_t>(rows * ex.dim), 55);
    const auto logits = Random(static_cast<size_t>(rows * ex.n), 56, 2.0f);
    std::vector<int32_t> experts(static_cast<size_t>(rows * k));
    std::vector<float> weights(experts.size());
    MoeRoute(logits.data(), rows, ex.n, k, true, experts.data(), weights.data());
    const FfnRun r = RunFfn(ex, x, rows, experts, weights, k, 0, ex.n, Activation::kSilu, pool);
    EXPECT_LE(MaxAbsDiff(r.out, r.ref), 1e-4f) << Name(t);
  }
}

}  // namespace
}  // namespace strata::kernels
