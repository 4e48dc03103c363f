// Attention with the per-architecture options (explicit scale, logit softcap, sliding window), fused and
// unfused, against the double-precision reference; and the window's bound on what is read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/attention_internal.h"
#include "scattered_cache.h"

namespace strata::kernels {
namespace {

using testing::Random;

struct Case {
  int64_t heads, kv_heads, head_dim, past, rows, block;
  float scale = 0.0f, softcap = 0.0f;
  int64_t window = 0;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  // head_dim 7 and 40 take the portable path, the others the AVX-512 one where the CPU has it (256: gemma).
  for (int64_t d : {7, 40, 32, 64, 128, 256}) {
    cases.push_back({4, 2, d, 0, 9, 4});                            // plain, prefill
    cases.push_back({4, 2, d, 30, 3, 8, 0.3f});                     // explicit scale
    cases.push_back({4, 1, d, 30, 3, 8, 0.0f, 2.0f});               // softcap alone (saturates: |s| ~ 1-3)
    cases.push_back({6, 2, d, 21, 4, 16, 1.0f, 5.0f});              // softcap + scale, GQA
    cases.push_back({4, 2, d, 40, 5, 16, 0.0f, 0.0f, 3});           // window smaller than a block
    cases.push_back({4, 4, d, 40, 5, 8, 0.0f, 0.0f, 20});           // window spanning blocks
    cases.push_back({8, 2, d, 10, 6, 4, 0.0f, 0.0f, 1000});         // window beyond the context
    cases.push_back({8, 1, d, 70, 1, 16, 0.0f, 0.0f, 17});          // decode, window one past a block
    cases.push_back({4, 2, d, 0, 12, 4, 0.0f, 0.0f, 5});            // prefill from 0 with a window
    cases.push_back({4, 2, d, 50, 4, 16, 0.7f, 3.0f, 1});           // window of one: attends to itself
    cases.push_back({32, 8, d, 33, 4, 16, 0.25f, 50.0f, 16});       // everything together
    // decode rows with grouped heads (query heads in lane groups of four): 2, 3 and 5 a KV head (a group cut
    // short, a second group), short blocks, softcap and window
    cases.push_back({4, 2, d, 19, 1, 16});                          // two a KV head
    cases.push_back({6, 2, d, 37, 1, 8, 0.0f, 0.0f, 0});            // three, blocks of 8
    cases.push_back({10, 2, d, 45, 1, 4, 0.5f, 4.0f, 21});          // five: groups of 4 and 1
    cases.push_back({16, 2, d, 3, 1, 16});                          // eight, 4 positions
  }
  return cases;
}

std::string Name(const Case& c) {
  return std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) + " d" + std::to_string(c.head_dim) + " past " +
         std::to_string(c.past) + " rows " + std::to_string(c.rows) + " block " + std::to_string(c.block) +
         " scale " + std::to_string(c.scale) + " cap " + std::to_string(c.softcap) + " window " +
         std::to_string(c.window);
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return std::isnan(m) ? INFINITY : m;
}

struct Inputs {
  std::vector<float> q, k, v;
  std::vector<int32_t> pos;
  AttentionShape shape;
  int64_t n_pos, kv_dim;
};

Inputs MakeInputs(const Case& c) {
  Inputs in;
  in.kv_dim = c.kv_heads * c.head_dim;
  in.n_pos = c.past + c.rows;
  in.q = Random(static_cast<size_t>(c.rows * c.heads * c.head_dim), 4);
  in.k = Random(static_cast<size_t>(in.n_pos * in.kv_dim), 5);
  in.v = Random(static_cast<size_t>(in.n_pos * in.kv_dim), 6);
  for (int64_t t = 0; t < c.rows; ++t) in.pos.push_back(static_cast<int32_t>(c.past + t));
  in.shape = {c.heads, c.kv_heads, c.head_dim, c.scale, c.softcap, c.window};
  return in;
}

// The paged cache, with every position before the first row's window poisoned with NaN: a kernel that reads
// one of them (or lets one into a sum with weight 0) returns NaN.
ScatteredCache PoisonedCache(const Case& c, const Inputs& in) {
  ScatteredCache paged(in.k, in.v, in.n_pos, in.kv_dim, c.rows, static_cast<uint32_t>(c.past + c.rows), c.block);
  const int64_t lo = WindowStart(c.past, c.window);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t j = 0; j < lo; ++j) {
    const int64_t slot = paged.table[static_cast<size_t>(j / c.block)] * c.block + j % c.block;
    std::fill_n(paged.k.begin() + slot * in.kv_dim, in.kv_dim, nan);
    std::fill_n(paged.v.begin() + slot * in.kv_dim, in.kv_dim, nan);
  }
  return paged;
}

TEST(KernelsAttention, FusedMatchesReferenceWithScaleSoftcapAndWindow) {
  ThreadPool pool(3);
  for (const Case& c : Cases()) {
    const Inputs in = MakeInputs(c);
    std::vector<float> out(in.q.size()), ref(in.q.size());
    Attention(in.q.data(), c.rows, in.pos.data(), PoisonedCache(c, in).view(), in.shape, out.data(), pool);
    AttentionReference(in.q.data(), c.rows, in.pos.data(), in.k.data(), in.v.data(), in.shape, ref.data());
    EXPECT_LE(MaxAbsDiff(out, ref), 2e-5f) << Name(c);
  }
}

TEST(KernelsAttention, UnfusedMatchesReferenceWithScaleSoftcapAndWindow) {
  ThreadPool pool(2);
  for (const Case& c : Cases()) {
    const Inputs in = MakeInputs(c);
    const int64_t ctx = in.n_pos + 3;  // the step's longest context may exceed this sequence's
    const ScatteredCache paged = PoisonedCache(c, in);
    std::vector<float> scores(static_cast<size_t>(c.rows * c.heads * ctx)), probs(scores.size());
    std::vector<float> out(in.q.size()), ref(in.q.size());
    AttnScores(in.q.data(), c.rows, in.pos.data(), paged.view(), in.shape, ctx, scores.data(), pool);
    for (int64_t i = 0; i < c.rows * c.heads; ++i) {
      const int64_t p = in.pos[static_cast<size_t>(i / c.heads)], lo = WindowStart(p, c.window);
      for (int64_t j = 0; j < ctx; ++j) {
        if (j >= lo && j <= p) continue;
        ASSERT_EQ(scores[static_cast<size_t>(i * ctx + j)], -INFINITY) << Name(c) << " j " << j;
      }
    }
    CausalSoftmax(scores.data(), c.rows, c.heads, ctx, in.pos.data(), c.window, probs.data(), pool);
    AttnValues(probs.data(), c.rows, in.pos.data(), paged.view(), in.shape, ctx, out.data(), pool);
    AttentionReference(in.q.data(), c.rows, in.pos.data(), in.k.data(), in.v.data(), in.shape, ref.data());
    EXPECT_LE(MaxAbsDiff(out, ref), 2e-5f) << Name(c);
  }
}

// F16 arithmetic over an F16 cache (AVX512-FP16 CPUs, grouped heads, head_dim 32..128: attention_avx512fp16.cpp)
// rounds the query to F16 and sums a score's products in halves: measured up to 5.9e-3 from the reference over
// these cases' values (|q|, |k|, |v| <= 1), against 2e-5 in F32 arithmetic. The test holds it to 1.5e-2.
constexpr float kF16MathTolerance = 1.5e-2f;

bool F16Math(DType t, const Case& c) {
#if defined(__x86_64__)
  return t == DType::kF16 && internal::AttentionF16MathSupported() &&
         internal::AttentionF16MathFits(c.heads / c.kv_heads, c.head_dim);
#else
  (void)t, (void)c;
  return false;
#endif
}

// F32 arithmetic forced while it lives (a test's pass over the path F16 arithmetic would replace).
struct ForcedF32Math {
  explicit ForcedF32Math(bool on) { Force(on); }
  ~ForcedF32Math() { Force(false); }
  static void Force(bool on) {
#if defined(__x86_64__)
    internal::ForceAttentionF32Math(on);
#else
    (void)on;
#endif
  }
};

// A cache stored as F16 or Q8_0, read directly by the kernels: they equal the reference over the same values
// (the rows converted back to F32), fused (AVX-512 where the CPU has it, else portable) and unfused.
struct TypedCache {
  DType dtype;
  int64_t row_bytes, block;
  std::vector<uint8_t> k, v;
  std::vector<float> k_values, v_values;  // what the stored rows hold, contiguous by position
  std::vector<int32_t> table;
  std::vector<const int32_t*> row_tables;

  TypedCache(DType t, const Inputs& in, int64_t rows, int64_t block_size, uint32_t seed)
      : dtype(t), row_bytes(RowBytes(t, in.kv_dim)), block(block_size) {
    const int64_t n_blocks = (in.n_pos + block - 1) / block + 2;
    for (int64_t b = 0; b < n_blocks; ++b) table.push_back(static_cast<int32_t>(b));
    std::shuffle(table.begin(), table.end(), std::mt19937(seed));
    k.assign(static_cast<size_t>(n_blocks * block * row_bytes), 0xff);  // unused slots hold garbage
    v = k;
    k_values.resize(in.k.size());
    v_values.resize(in.v.size());
    for (int64_t j = 0; j < in.n_pos; ++j) {
      const int64_t slot = table[static_cast<size_t>(j / block)] * block + j % block;
      for (auto [src, dst, values] : {std::tuple{&in.k, &k, &k_values}, std::tuple{&in.v, &v, &v_values}}) {
        QuantizeRow(t, src->data() + j * in.kv_dim, dst->data() + slot * row_bytes, in.kv_dim);
        DequantizeRow(t, dst->data() + slot * row_bytes, values->data() + j * in.kv_dim, in.kv_dim);
      }
    }
    row_tables.assign(static_cast<size_t>(rows), table.data());
  }
  PagedKvView view() const { return {k.data(), v.data(), block, row_tables.data(), dtype, row_bytes}; }
};

TEST(KernelsAttention, F16AndQ8_0CachesMatchTheReferenceOverTheirValues) {
  ThreadPool pool(2);
  for (bool f32_math : {true, false})  // F16 arithmetic where the CPU has it, then (or only) F32
    for (DType t : {DType::kF16, DType::kQ8_0})
      for (const Case& c : Cases()) {
        if (t == DType::kQ8_0 && c.head_dim % 32 != 0) continue;  // Q8_0 blocks must not straddle heads
        const ForcedF32Math forced(f32_math);
        const bool f16_math = F16Math(t, c);
        if (!f32_math && !f16_math) continue;  // the first pass took this path already
        const Inputs in = MakeInputs(c);
        const TypedCache cache(t, in, c.rows, c.block, static_cast<uint32_t>(c.past + 7));
        std::vector<float> fused(in.q.size()), unfused(in.q.size()), ref(in.q.size());
        Attention(in.q.data(), c.rows, in.pos.data(), cache.view(), in.shape, fused.data(), pool);
        const int64_t ctx = in.n_pos;
        std::vector<float> scores(static_cast<size_t>(c.rows * c.heads * ctx)), probs(scores.size());
        AttnScores(in.q.data(), c.rows, in.pos.data(), cache.view(), in.shape, ctx, scores.data(), pool);
        CausalSoftmax(scores.data(), c.rows, c.heads, ctx, in.pos.data(), c.window, probs.data(), pool);
        AttnValues(probs.data(), c.rows, in.pos.data(), cache.view(), in.shape, ctx, unfused.data(), pool);
        AttentionReference(in.q.data(), c.rows, in.pos.data(), cache.k_values.data(), cache.v_values.data(), in.shape,
                           ref.data());
        const std::string what = std::string(Name(t)) + (f16_math ? " (F16 arithmetic) " : " ") + Name(c);
        EXPECT_LE(MaxAbsDiff(fused, ref), f16_math ? kF16MathTolerance : 2e-5f) << what;
        EXPECT_LE(MaxAbsDiff(unfused, ref), 2e-5f) << what;
        // And the stored values are the inputs within the type's rounding.
        std::vector<float> exact(in.q.size());
        AttentionReference(in.q.data(), c.rows, in.pos.data(), in.k.data(), in.v.data(), in.shape, exact.data());
        EXPECT_LE(MaxAbsDiff(fused, exact), f16_math ? kF16MathTolerance : t == DType::kF16 ? 5e-3f : 0.1f) << what;
      }
}

// F16 arithmetic where a score or a chunk's Σ p v overflows F16 (past 65504): that chunk is recomputed in F32,
// so the result is the reference's, not inf or NaN (without the fallback: off by 2 and by 3900). Queries 400,
// keys +-300: a lane's 8 products reach +-1.2e5 after the scale; values 5000 where every score ties (keys 0),
// so sixteen positions of p = 1 sum to 80000.
TEST(KernelsAttention, F16ArithmeticOverflowFallsBackToF32) {
  ThreadPool pool(1);
  const Case c{8, 2, 64, 40, 1, 16};
  for (int which = 0; which < 2; ++which) {
    Inputs in = MakeInputs(c);
    std::mt19937 rng(9);
    for (float& x : in.q) x = which == 0 ? 400.0f : x;
    for (float& x : in.k) x = which == 0 ? (rng() % 2 ? 300.0f : -300.0f) : 0.0f;
    for (float& x : in.v) x = which == 0 ? x : 5000.0f + x;
    const TypedCache cache(DType::kF16, in, c.rows, c.block, 3);
    std::vector<float> fused(in.q.size()), ref(in.q.size());
    Attention(in.q.data(), c.rows, in.pos.data(), cache.view(), in.shape, fused.data(), pool);
    AttentionReference(in.q.data(), c.rows, in.pos.data(), cache.k_values.data(), cache.v_values.data(), in.shape,
                       ref.data());
    const float scale = which == 0 ? 1.0f : 5000.0f;
    EXPECT_LE(MaxAbsDiff(fused, ref), (F16Math(DType::kF16, c) ? kF16MathTolerance : 2e-5f) * scale)
        << (which == 0 ? "scores" : "values") << " overflowing F16";
  }
}

// One decode row over a long context is split by position across the pool's threads and the parts' softmax
// states merged (flash-decoding): the same result as the reference for every cache type, block size, window
// and thread count, with the positions before the window poisoned (a part that read one would give NaN).
TEST(KernelsAttention, LongDecodeSplitAcrossThreadsMatchesTheReference) {
  for (int threads : {1, 2, 3})
    for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0})
      for (const Case& c : {Case{8, 2, 64, 2600, 1, 16}, Case{4, 4, 32, 1500, 1, 4, 0.0f, 0.0f, 1300},
                            Case{32, 8, 64, 3100, 1, 32, 0.3f, 20.0f, 2100}, Case{8, 2, 128, 1023, 1, 8}}) {
        ThreadPool pool(threads);
        const Inputs in = MakeInputs(c);
        std::vector<float> fused(in.q.size()), ref(in.q.size());
        if (t == DType::kF32) {
          const ScatteredCache paged = PoisonedCache(c, in);
          Attention(in.q.data(), c.rows, in.pos.data(), paged.view(), in.shape, fused.data(), pool);
          AttentionReference(in.q.data(), c.rows, in.pos.data(), in.k.data(), in.v.data(), in.shape, ref.data());
        } else {
          const TypedCache cache(t, in, c.rows, c.block, static_cast<uint32_t>(c.past + 7));
          Attention(in.q.data(), c.rows, in.pos.data(), cache.view(), in.shape, fused.data(), pool);
          AttentionReference(in.q.data(), c.rows, in.pos.data(), cache.k_values.data(), cache.v_values.data(),
                             in.shape, ref.data());
        }
        EXPECT_LE(MaxAbsDiff(fused, ref), F16Math(t, c) ? kF16MathTolerance : 2e-5f)
            << threads << " threads " << Name(t) << " " << Name(c);
      }
}

// The reference itself against hand-computed cases: a window of one returns the row's own value; a softcap
// bounds the logits, so with a tiny cap every position weighs the same.
TEST(KernelsAttention, ReferenceHonoursWindowAndSoftcap) {
  const int64_t D = 4, n_pos = 6;
  auto q = Random(static_cast<size_t>(D), 30, 5.0f), k = Random(static_cast<size_t>(n_pos * D), 31, 5.0f),
       v = Random(static_cast<size_t>(n_pos * D), 32);
  const int32_t pos = 5;
  std::vector<float> out(static_cast<size_t>(D));
  AttentionReference(q.data(), 1, &pos, k.data(), v.data(), {1, 1, D, 0.0f, 0.0f, 1}, out.data());
  for (int64_t d = 0; d < D; ++d) EXPECT_NEAR(out[static_cast<size_t>(d)], v[static_cast<size_t>(5 * D + d)], 1e-6);
  AttentionReference(q.data(), 1, &pos, k.data(), v.data(), {1, 1, D, 0.0f, 1e-6f, 3}, out.data());
  for (int64_t d = 0; d < D; ++d) {
    const float mean = (v[static_cast<size_t>(3 * D + d)] + v[static_cast<size_t>(4 * D + d)] + v[static_cast<size_t>(5 * D + d)]) / 3;
    EXPECT_NEAR(out[static_cast<size_t>(d)], mean, 1e-5);
  }
  // window >= context is no window
  std::vector<float> a(static_cast<size_t>(D)), b(static_cast<size_t>(D));
  AttentionReference(q.data(), 1, &pos, k.data(), v.data(), {1, 1, D, 0.0f, 0.0f, 6}, a.data());
  AttentionReference(q.data(), 1, &pos, k.data(), v.data(), {1, 1, D}, b.data());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace strata::kernels
