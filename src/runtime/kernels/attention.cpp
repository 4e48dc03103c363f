#include "runtime/kernels/attention.h"

#include "runtime/kernels/attention_internal.h"

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

// Slot of position j of a sequence, through its block table.
inline int64_t Slot(const int32_t* table, int64_t j, int64_t block_size) {
  return static_cast<int64_t>(table[j / block_size]) * block_size + j % block_size;
}

// One head's slice of a stored row as floats: the row itself when F32, else converted into `scratch`.
inline const float* HeadValues(DType t, const uint8_t* p, int64_t head_dim, float* scratch) {
  if (t == DType::kF32) return reinterpret_cast<const float*>(p);
  DequantizeRow(t, p, scratch, head_dim);
  return scratch;
}

// Where head kvh's slice of slot `slot` starts.
inline const uint8_t* HeadRow(const uint8_t* base, const PagedKvView& kv, int64_t slot, int64_t kvh, int64_t head_dim) {
  return base + slot * kv.row_bytes + RowBytes(kv.dtype, kvh * head_dim);
}

PagedKvView WithRowBytes(PagedKvView kv, int64_t kv_stride) {
  if (kv.row_bytes == 0) kv.row_bytes = RowBytes(kv.dtype, kv_stride);
  return kv;
}

// One (query row, head), block by block with an online softmax: a running max and sum rescale what was
// accumulated, so no score vector as long as the context is ever held. Only the blocks covering the row's
// window [lo, pos] are read.
void AttendOne(const float* q, int64_t pos, const int32_t* table, const PagedKvView& kv, int64_t kvh,
               int64_t head_dim, const internal::ScoreMap& map, int64_t window, float* scores, float* scratch,
               float* out) {
  float max = -INFINITY, sum = 0;
  std::fill(out, out + head_dim, 0.0f);
  const int64_t lo = WindowStart(pos, window);
  for (int64_t j0 = lo / kv.block_size * kv.block_size; j0 <= pos; j0 += kv.block_size) {
    const int64_t first = std::max<int64_t>(0, lo - j0), n = std::min(kv.block_size, pos + 1 - j0);
    const int64_t slot0 = static_cast<int64_t>(table[j0 / kv.block_size]) * kv.block_size;
    float block_max = -INFINITY;
    for (int64_t j = first; j < n; ++j) {
      const float* k = HeadValues(kv.dtype, HeadRow(kv.k, kv, slot0 + j, kvh, head_dim), head_dim, scratch);
      scores[j] = map(Dot(q, k, head_dim));
      block_max = std::max(block_max, scores[j]);
    }
    if (block_max > max) {
      const float rescale = std::exp(max - block_max);  // exp(-inf) = 0 on the first block
      for (int64_t d = 0; d < head_dim; ++d) out[d] *= rescale;
      sum *= rescale;
      max = block_max;
    }
    for (int64_t j = first; j < n; ++j) {
      const float p = std::exp(scores[j] - max);
      sum += p;
      const float* v = HeadValues(kv.dtype, HeadRow(kv.v, kv, slot0 + j, kvh, head_dim), head_dim, scratch);
      for (int64_t d = 0; d < head_dim; ++d) out[d] += p * v[d];
    }
  }
  const float inv = 1.0f / sum;
  for (int64_t d = 0; d < head_dim; ++d) out[d] *= inv;
}

}  // namespace

float ScoreScale(const AttentionShape& s) {
  return s.scale > 0 ? s.scale : 1.0f / std::sqrt(static_cast<float>(s.head_dim));
}

#if defined(__x86_64__)
namespace {
// One decode row over a long context, split by position across the pool (flash-decoding): each thread reads
// whole cache rows of a contiguous range of blocks. Split by KV head instead, each thread read part of every
// row, a strided stream the prefetchers follow poorly (~12 GB/s from memory on 2 cores of a 30 GB/s machine).
constexpr int64_t kSplitPositions = 512;  // per part at least: below, the parts' merge is not worth it

int64_t SplitAlign(const PagedKvView& kv) { return kv.block_size % 16 == 0 ? kv.block_size : 16 % kv.block_size == 0 ? 16 : 0; }

bool SplitDecode(int64_t pos, const AttentionShape& s, const PagedKvView& kv, ThreadPool& pool) {
  const int64_t span = pos + 1 - WindowStart(pos, s.window);
  return pool.size() > 1 && SplitAlign(kv) > 0 && span >= 2 * kSplitPositions;
}

void SplitDecodeRow(const float* q, int64_t pos, const PagedKvView& kv, const AttentionShape& s,
                    const internal::ScoreMap& map, float* out, ThreadPool& pool) {
  const int64_t D = s.head_dim, H = s.n_heads, lo = WindowStart(pos, s.window), align = SplitAlign(kv);
  const int64_t parts = std::min<int64_t>(pool.size(), (pos + 1 - lo) / kSplitPositions);
  std::vector<float> o(static_cast<size_t>(parts * H * D)), mx(static_cast<size_t>(parts * H)), sm(mx.size());
  // part p's positions: [bound(p), bound(p + 1)), cut on aligned boundaries
  auto bound = [&](int64_t p) {
    if (p == 0) return int64_t{0};
    if (p == parts) return pos + 1;
    return (lo + (pos + 1 - lo) * p / parts) / align * align;
  };
  pool.ParallelFor(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const internal::PositionPart part{bound(p), bound(p + 1), mx.data() + p * H, sm.data() + p * H};
      internal::AttendRowsAvx512(q, H * D, 1, H / s.n_kv_heads, pos, kv.block_tables[0], kv, 0, s.n_kv_heads, D, map,
                                 s.window, o.data() + p * H * D, part);
    }
  });
  for (int64_t h = 0; h < H; ++h) {  // out = Σ_p e^(max_p - M) o_p / Σ_p e^(max_p - M) sum_p
    float m = -INFINITY;
    for (int64_t p = 0; p < parts; ++p) m = std::max(m, mx[static_cast<size_t>(p * H + h)]);
    float total = 0;
    float* dst = out + h * D;
    std::fill(dst, dst + D, 0.0f);
    for (int64_t p = 0; p < parts; ++p) {
      const float mp = mx[static_cast<size_t>(p * H + h)];
      if (mp == -INFINITY) continue;
      const float w = std::exp(mp - m);
      total += w * sm[static_cast<size_t>(p * H + h)];
      const float* src = o.data() + (p * H + h) * D;
      for (int64_t d = 0; d < D; ++d) dst[d] += w * src[d];
    }
    for (int64_t d = 0; d < D; ++d) dst[d] /= total;
  }
}
}  // namespace
#endif

void Attention(const float* q, int64_t rows, const int32_t* positions, const PagedKvView& view,
               const AttentionShape& s, float* out, ThreadPool& pool) {
  const int64_t q_stride = s.n_heads * s.head_dim, kv_stride = s.n_kv_heads * s.head_dim;
  const PagedKvView kv = WithRowBytes(view, kv_stride);
  const int64_t group = s.n_heads / s.n_kv_heads;
  const internal::ScoreMap map(s);
#if defined(__x86_64__)
  if (internal::AttentionAvx512Supported() && internal::AttentionAvx512Fits(s.head_dim) &&
      s.n_heads <= internal::kMaxRowHeads && (kv.dtype != DType::kQ8_0 || s.head_dim % kQK == 0)) {
    if (rows == 1 && SplitDecode(positions[0], s, kv, pool)) return SplitDecodeRow(q, positions[0], kv, s, map, out, pool);
    // Tiles of up to kMaxTileRows rows of one sequence at consecutive positions share each key and value load.
    std::vector<int64_t> tiles;  // first row of each tile, then rows
    for (int64_t t = 0; t < rows; ++t)
      if (tiles.empty() || t - tiles.back() == internal::kMaxTileRows || kv.block_tables[t] != kv.block_tables[t - 1] ||
          positions[t] != positions[t - 1] + 1)
        tiles.push_back(t);
    const auto n_tiles = static_cast<int64_t>(tiles.size());
    tiles.push_back(rows);
    // Items are (tile, KV head); a thread's contiguous share is taken a tile at a time, its KV heads together.
    pool.ParallelFor(n_tiles * s.n_kv_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end;) {
        const int64_t tile = i / s.n_kv_heads, kvh0 = i % s.n_kv_heads;
        const int64_t kvh1 = std::min(s.n_kv_heads, kvh0 + (end - i));
        const int64_t t = tiles[static_cast<size_t>(tile)], R = tiles[static_cast<size_t>(tile) + 1] - t;
        internal::AttendRowsAvx512(q + t * q_stride, q_stride, R, group, positions[t], kv.block_tables[t], kv, kvh0,
                                   kvh1, s.head_dim, map, s.window, out + t * q_stride);
        i += kvh1 - kvh0;
      }
    });
    return;
  }
#endif
  pool.ParallelFor(rows * s.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(kv.block_size)), scratch(static_cast<size_t>(s.head_dim));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / s.n_heads, h = i % s.n_heads, kvh = h / group;
      AttendOne(q + t * q_stride + h * s.head_dim, positions[t], kv.block_tables[t], kv, kvh, s.head_dim, map,
                s.window, scores.data(), scratch.data(), out + t * q_stride + h * s.head_dim);
    }
  });
}

void AttnScores(const float* q, int64_t rows, const int32_t* positions, const PagedKvView& view,
                const AttentionShape& s, int64_t ctx, float* scores, ThreadPool& pool) {
  const int64_t q_stride = s.n_heads * s.head_dim;
  const PagedKvView kv = WithRowBytes(view, s.n_kv_heads * s.head_dim);
  const int64_t group = s.n_heads / s.n_kv_heads;
  const internal::ScoreMap map(s);
  pool.ParallelFor(rows * s.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(s.head_dim));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / s.n_heads, h = i % s.n_heads, kvh = h / group;
      const int64_t pos = positions[t], lo = WindowStart(pos, s.window);
      float* row = scores + i * ctx;
      std::fill(row, row + ctx, -INFINITY);
      for (int64_t j = lo; j <= pos && j < ctx; ++j) {
        const uint8_t* k = HeadRow(kv.k, kv, Slot(kv.block_tables[t], j, kv.block_size), kvh, s.head_dim);
        row[j] = map(Dot(q + t * q_stride + h * s.head_dim, HeadValues(kv.dtype, k, s.head_dim, scratch.data()), s.head_dim));
      }
    }
  });
}

void CausalSoftmax(const float* scores, int64_t rows, int64_t n_heads, int64_t ctx, const int32_t* positions,
                   int64_t window, float* probs, ThreadPool& pool) {
  pool.ParallelFor(rows * n_heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t pos = positions[i / n_heads], lo = WindowStart(pos, window), n = pos + 1;
      const float* in = scores + i * ctx;
      float* out = probs + i * ctx;
      const float max = *std::max_element(in + lo, in + n);
      float sum = 0;
      for (int64_t j = lo; j < n; ++j) sum += (out[j] = std::exp(in[j] - max));
      const float inv = 1.0f / sum;
      for (int64_t j = lo; j < n; ++j) out[j] *= inv;
      std::fill(out, out + lo, 0.0f);
      std::fill(out + n, out + ctx, 0.0f);
    }
  });
}

void AttnValues(const float* probs, int64_t rows, const int32_t* positions, const PagedKvView& view,
                const AttentionShape& s, int64_t ctx, float* out, ThreadPool& pool) {
  const int64_t q_stride = s.n_heads * s.head_dim;
  const PagedKvView kv = WithRowBytes(view, s.n_kv_heads * s.head_dim);
  const int64_t group = s.n_heads / s.n_kv_heads;
  pool.ParallelFor(rows * s.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(s.head_dim));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / s.n_heads, h = i % s.n_heads, kvh = h / group;
      float* o = out + t * q_stride + h * s.head_dim;
      std::fill(o, o + s.head_dim, 0.0f);
      for (int64_t j = WindowStart(positions[t], s.window); j <= positions[t]; ++j) {
        const float p = probs[i * ctx + j];
        const uint8_t* row = HeadRow(kv.v, kv, Slot(kv.block_tables[t], j, kv.block_size), kvh, s.head_dim);
        const float* v = HeadValues(kv.dtype, row, s.head_dim, scratch.data());
        for (int64_t d = 0; d < s.head_dim; ++d) o[d] += p * v[d];
      }
    }
  });
}

void AttentionReference(const float* q, int64_t rows, const int32_t* positions, const float* k_cache,
                        const float* v_cache, const AttentionShape& s, float* out) {
  const int64_t q_stride = s.n_heads * s.head_dim, kv_stride = s.n_kv_heads * s.head_dim;
  const double scale = s.scale > 0 ? s.scale : 1.0 / std::sqrt(static_cast<double>(s.head_dim));
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const int64_t kvh = h / (s.n_heads / s.n_kv_heads), pos = positions[t];
      // masked when pos - j >= window
      const int64_t lo = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
      std::vector<double> p(static_cast<size_t>(pos + 1 - lo));
      double max = -INFINITY, sum = 0;
      for (int64_t j = lo; j <= pos; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < s.head_dim; ++d)
          dot += static_cast<double>(q[t * q_stride + h * s.head_dim + d]) * k_cache[j * kv_stride + kvh * s.head_dim + d];
        double score = dot * scale;
        if (s.softcap > 0) score = s.softcap * std::tanh(score / s.softcap);
        p[static_cast<size_t>(j - lo)] = score;
        max = std::max(max, score);
      }
      for (auto& v : p) sum += (v = std::exp(v - max));
      for (int64_t d = 0; d < s.head_dim; ++d) {
        double acc = 0;
        for (int64_t j = lo; j <= pos; ++j)
          acc += p[static_cast<size_t>(j - lo)] * v_cache[j * kv_stride + kvh * s.head_dim + d];
        out[t * q_stride + h * s.head_dim + d] = static_cast<float>(acc / sum);
      }
    }
}

}  // namespace strata::kernels
