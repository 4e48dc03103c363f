#include "runtime/kernels/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace strata::kernels {
namespace {

// Smallest normal half: llama.cpp clamps the renormalising sum to it so that it never divides by zero.
constexpr float kMinWeightSum = 6.103515625e-5f;

// Softmax of one row as ggml_soft_max computes it: float max and exponentials, the sum in double, then a
// multiply by the float reciprocal.
void Softmax(const float* x, int64_t n, float* p) {
  const float max = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (p[i] = std::exp(x[i] - max));
  const auto inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) p[i] *= inv;
}

}  // namespace

void MoeRoute(const float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize, int32_t* experts,
              float* weights, MoeGating /*gating: softmax is the only one*/) {
  std::vector<float> p(static_cast<size_t>(n_experts));
  std::vector<int32_t> idx(static_cast<size_t>(n_experts));
  for (int64_t t = 0; t < rows; ++t) {
    Softmax(logits + t * n_experts, n_experts, p.data());
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&p](int32_t a, int32_t b) {
      const float pa = p[static_cast<size_t>(a)], pb = p[static_cast<size_t>(b)];
      return pa > pb || (pa == pb && a < b);
    });
    int32_t* e = experts + t * k;
    float* w = weights + t * k;
    double sum = 0;
    for (int64_t i = 0; i < k; ++i) {
      e[i] = idx[static_cast<size_t>(i)];
      sum += (w[i] = p[static_cast<size_t>(e[i])]);
    }
    if (renormalize) {
      const float s = std::max(static_cast<float>(sum), kMinWeightSum);
      for (int64_t i = 0; i < k; ++i) w[i] /= s;
    }
  }
}

void MoeFfn(const float* x, int64_t rows, int64_t dim, int64_t ffn, int64_t expert_begin, int64_t expert_end,
            const int32_t* experts, const float* weights, int64_t k, Activation act, const MoeExpertMatMul& mm,
            float* out, float* scratch, std::vector<int64_t>* tokens_per_expert, ThreadPool& pool) {
  const int64_t n_local = expert_end - expert_begin, pairs = rows * k;
  // Counting sort of the (row, choice) pairs by local expert: offsets[e] is where expert e's rows start in the
  // gathered buffer, slot[pair] where that pair's row went (-1: not a local expert).
  std::vector<int64_t> offsets(static_cast<size_t>(n_local) + 1, 0), slot(static_cast<size_t>(pairs), -1);
  for (int64_t i = 0; i < pairs; ++i)
    if (experts[i] >= expert_begin && experts[i] < expert_end) ++offsets[static_cast<size_t>(experts[i] - expert_begin) + 1];
  for (int64_t e = 0; e < n_local; ++e) offsets[static_cast<size_t>(e) + 1] += offsets[static_cast<size_t>(e)];
  if (tokens_per_expert) {
    tokens_per_expert->resize(static_cast<size_t>(n_local));
    for (int64_t e = 0; e < n_local; ++e)
      (*tokens_per_expert)[static_cast<size_t>(e)] = offsets[static_cast<size_t>(e) + 1] - offsets[static_cast<size_t>(e)];
  }
  {
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (int64_t i = 0; i < pairs; ++i)
      if (experts[i] >= expert_begin && experts[i] < expert_end)
        slot[static_cast<size_t>(i)] = next[static_cast<size_t>(experts[i] - expert_begin)]++;
  }
  const int64_t total = offsets.back();
  float* rows_buf = scratch;                 // [total, dim]: gathered inputs, then the down projection's output
  float* gate = rows_buf + total * dim;      // [total, ffn]
  float* up = gate + total * ffn;            // [total, ffn]
  pool.ParallelFor(pairs, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      if (const int64_t s = slot[static_cast<size_t>(i)]; s >= 0)
        std::memcpy(rows_buf + s * dim, x + (i / k) * dim, static_cast<size_t>(dim) * sizeof(float));
  });
  for (int64_t e = 0; e < n_local; ++e) {
    const int64_t off = offsets[static_cast<size_t>(e)], n = offsets[static_cast<size_t>(e) + 1] - off;
    if (n == 0) continue;
    mm.fn(expert_begin + e, kMoeGate, rows_buf + off * dim, gate + off * ffn, n);
    mm.fn(expert_begin + e, kMoeUp, rows_buf + off * dim, up + off * ffn, n);
  }
  Activate(act, gate, gate, total * ffn, pool);
  Mul(gate, up, gate, total * ffn, pool);
  for (int64_t e = 0; e < n_local; ++e) {
    const int64_t off = offsets[static_cast<size_t>(e)], n = offsets[static_cast<size_t>(e) + 1] - off;
    if (n > 0) mm.fn(expert_begin + e, kMoeDown, gate + off * ffn, rows_buf + off * dim, n);
  }
  // Each row adds its experts' weighted outputs in its own choice order: deterministic, no write conflicts.
  pool.ParallelFor(rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      float* o = out + t * dim;
      std::fill(o, o + dim, 0.0f);
      for (int64_t i = 0; i < k; ++i) {
        const int64_t s = slot[static_cast<size_t>(t * k + i)];
        if (s < 0) continue;
        const float w = weights[t * k + i];
        const float* y = rows_buf + s * dim;
        for (int64_t d = 0; d < dim; ++d) o[d] += w * y[d];
      }
    }
  });
}

void MoeFfnReference(const float* x, int64_t rows, int64_t dim, int64_t ffn, int64_t expert_begin,
                     int64_t expert_end, const int32_t* experts, const float* weights, int64_t k, Activation act,
                     const float* gate, const float* up, const float* down, float* out) {
  auto matvec = [](const float* w, const float* v, int64_t n, int64_t kdim, float* y) {
    for (int64_t r = 0; r < n; ++r) {
      double acc = 0;
      for (int64_t c = 0; c < kdim; ++c) acc += static_cast<double>(w[r * kdim + c]) * v[c];
      y[r] = static_cast<float>(acc);
    }
  };
  std::vector<float> g(static_cast<size_t>(ffn)), u(static_cast<size_t>(ffn)), y(static_cast<size_t>(dim));
  for (int64_t t = 0; t < rows; ++t) {
    float* o = out + t * dim;
    std::fill(o, o + dim, 0.0f);
    for (int64_t i = 0; i < k; ++i) {
      const int64_t e = experts[t * k + i];
      if (e < expert_begin || e >= expert_end) continue;
      matvec(gate + e * ffn * dim, x + t * dim, ffn, dim, g.data());
      matvec(up + e * ffn * dim, x + t * dim, ffn, dim, u.data());
      ActivateReference(act, g.data(), g.data(), ffn);
      for (int64_t j = 0; j < ffn; ++j) g[static_cast<size_t>(j)] *= u[static_cast<size_t>(j)];
      matvec(down + e * dim * ffn, g.data(), dim, ffn, y.data());
      for (int64_t d = 0; d < dim; ++d) o[d] += weights[t * k + i] * y[static_cast<size_t>(d)];
    }
  }
}

}  // namespace strata::kernels
