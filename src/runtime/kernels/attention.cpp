#include "runtime/kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::kernels {
namespace {

float Dot(const float* a, const float* b, int64_t n) {
  // Eight independent sums so the loop vectorises without reassociation flags.
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Row offset (in floats) of every position 0..pos of one sequence, through its block table.
void GatherOffsets(const int32_t* table, int64_t pos, int64_t block_size, int64_t kv_stride, int64_t* offsets) {
  for (int64_t j = 0; j <= pos; ++j)
    offsets[j] = (static_cast<int64_t>(table[j / block_size]) * block_size + j % block_size) * kv_stride;
}

// One (query row, head): scores over keys 0..pos, softmax, weighted sum of values.
void AttendOne(const float* q, int64_t pos, const int64_t* offsets, const float* k_cache, const float* v_cache,
               int64_t head_dim, float scale, float* scores, float* out) {
  float max = -INFINITY;
  for (int64_t j = 0; j <= pos; ++j) {
    scores[j] = Dot(q, k_cache + offsets[j], head_dim) * scale;
    max = std::max(max, scores[j]);
  }
  float sum = 0;
  for (int64_t j = 0; j <= pos; ++j) {
    scores[j] = std::exp(scores[j] - max);
    sum += scores[j];
  }
  std::fill(out, out + head_dim, 0.0f);
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j <= pos; ++j) {
    const float p = scores[j] * inv;
    const float* v = v_cache + offsets[j];
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * v[d];
  }
}

}  // namespace

void Attention(const float* q, int64_t rows, const int32_t* positions, const PagedKvView& kv,
               const AttentionShape& s, float* out, ThreadPool& pool) {
  const int64_t q_stride = s.n_heads * s.head_dim, kv_stride = s.n_kv_heads * s.head_dim;
  const int64_t group = s.n_heads / s.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  int64_t max_pos = 0;
  for (int64_t t = 0; t < rows; ++t) max_pos = std::max<int64_t>(max_pos, positions[t]);
  pool.ParallelFor(rows * s.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(max_pos + 1));
    std::vector<int64_t> offsets(static_cast<size_t>(max_pos + 1));
    int64_t offsets_row = -1;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / s.n_heads, h = i % s.n_heads, kvh = h / group;
      if (t != offsets_row) {
        GatherOffsets(kv.block_tables[t], positions[t], kv.block_size, kv_stride, offsets.data());
        offsets_row = t;
      }
      AttendOne(q + t * q_stride + h * s.head_dim, positions[t], offsets.data(), kv.k + kvh * s.head_dim,
                kv.v + kvh * s.head_dim, s.head_dim, scale, scores.data(), out + t * q_stride + h * s.head_dim);
    }
  });
}

void AttentionReference(const float* q, int64_t rows, const int32_t* positions, const float* k_cache,
                        const float* v_cache, const AttentionShape& s, float* out) {
  const int64_t q_stride = s.n_heads * s.head_dim, kv_stride = s.n_kv_heads * s.head_dim;
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const int64_t kvh = h / (s.n_heads / s.n_kv_heads), pos = positions[t];
      std::vector<double> p(static_cast<size_t>(pos + 1));
      double max = -INFINITY, sum = 0;
      for (int64_t j = 0; j <= pos; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < s.head_dim; ++d)
          dot += static_cast<double>(q[t * q_stride + h * s.head_dim + d]) * k_cache[j * kv_stride + kvh * s.head_dim + d];
        p[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(s.head_dim));
        max = std::max(max, p[static_cast<size_t>(j)]);
      }
      for (auto& v : p) sum += (v = std::exp(v - max));
      for (int64_t d = 0; d < s.head_dim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j <= pos; ++j) acc += p[static_cast<size_t>(j)] * v_cache[j * kv_stride + kvh * s.head_dim + d];
        out[t * q_stride + h * s.head_dim + d] = static_cast<float>(acc / sum);
      }
    }
}

}  // namespace strata::kernels
