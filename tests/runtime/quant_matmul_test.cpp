// The integer (8-bit activation) matmul: its reference against hand-computed values and against the F32
// reference within the bound that 8-bit activation rounding allows, and both kernels over the packed layout
// (scalar and AVX-512 VNNI) against the reference, bit for bit (same integer sums, same float operations in
// the same order). Plus a non-asserting GEMV/GEMM throughput print next to the F32-activation MatMul.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/kernels/quant_matmul_internal.h"
#include "runtime/kernels/quant_matmul_q4_1_q5.h"

namespace strata::kernels {
namespace {

using testing::Random;
using testing::RandomWeight;

// The scalar kernel over the packed layout, whole problem on one thread.
std::vector<float> PackedScalar(const PackedWeight& p, const std::vector<float>& x, int64_t T) {
  const int64_t K = p.cols(), nb = K / 32;
  int32_t offset = p.dtype() == DType::kQ4_0 ? 8 : p.dtype() == DType::kQ8_0 ? 128 : 0;
  if (internal::IsQ4_1Q5(p.dtype())) offset = internal::Q4_1Q5Offset(p.dtype());
  std::vector<int8_t> q(static_cast<size_t>(T * K));
  std::vector<float> d(static_cast<size_t>(T * nb)), ds(static_cast<size_t>(T * nb));
  std::vector<int32_t> corr(static_cast<size_t>(T * nb)), corr16(static_cast<size_t>(2 * T * nb));
  for (int64_t t = 0; t < T; ++t)
    internal::QuantizeRowScalar(x.data() + t * K, K, offset, q.data() + t * K, d.data() + t * nb, corr.data() + t * nb,
                                ds.data() + t * nb, corr16.data() + 2 * t * nb, internal::ActivationSpan(p.dtype()));
  std::vector<float> y(static_cast<size_t>(T * p.rows()));
  internal::QuantRowsScalar(p, {T, K, nb, q.data(), d.data(), corr.data(), ds.data(), corr16.data()}, y.data(), 0,
                            p.rows() / kPackRows);
  return y;
}

TEST(QuantMatMulReference, MatchesHandComputedValues) {
  // Activations that quantize exactly (block max 127, so d = 1) against Q8_0 rows of small integers (d = 1)
  // and Q4_0 rows (d = 1, weights q - 8): the result is the exact integer dot product.
  const int64_t N = 16, K = 64;
  std::vector<float> x(K);
  for (int64_t k = 0; k < K; ++k) x[static_cast<size_t>(k)] = static_cast<float>(k % 2 ? 127 - k : -(k % 50));
  x[0] = 127, x[32] = -127;
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(N * RowBytes(dtype, K)));
    std::vector<int> wv(static_cast<size_t>(N * K));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t b = 0; b < K / 32; ++b) {
        uint8_t* blk = bytes->data() + n * RowBytes(dtype, K) + b * RowBytes(dtype, 32);
        const uint16_t one = Fp32ToFp16(1.0f);
        std::memcpy(blk, &one, 2);
        for (int i = 0; i < 32; ++i) {
          const int v = static_cast<int>((n * 7 + b * 3 + i * 5) % 15) - 7;  // -7..7
          wv[static_cast<size_t>(n * K + b * 32 + i)] = v;
          if (dtype == DType::kQ8_0) blk[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(v));
          else if (i < 16) blk[2 + i] = static_cast<uint8_t>(v + 8);
          else blk[2 + i - 16] = static_cast<uint8_t>(blk[2 + i - 16] | ((v + 8) << 4));
        }
      }
    const Tensor w = Tensor::View(dtype, {N, K}, bytes->data(), bytes);
    std::vector<float> y(N);
    QuantMatMulReference(w, x.data(), y.data(), 1);
    for (int64_t n = 0; n < N; ++n) {
      long want = 0;
      for (int64_t k = 0; k < K; ++k) want += static_cast<long>(wv[static_cast<size_t>(n * K + k)]) * static_cast<long>(x[static_cast<size_t>(k)]);
      EXPECT_EQ(y[static_cast<size_t>(n)], static_cast<float>(want)) << Name(dtype) << " row " << n;
    }
  }
}

TEST(QuantMatMulReference, WithinActivationRoundingOfF32) {
  // Rounding x to 8 bits moves each value by at most d/2 = amax/254 of the values sharing its scale (its block
  // of 32, or for Q4_K and Q6_K its super-block of 256: internal::ActivationSpan), so each output moves by at
  // most Σ_blocks (amax_b / 254) Σ_i∈b |w_i| (plus float rounding, which the 1e-5 relative slack covers).
  const int64_t N = 48, K = 1280, T = 3;
  for (DType dtype :
       {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    const Tensor w = RandomWeight(dtype, N, K, 7);
    const std::vector<float> x = Random(static_cast<size_t>(T * K), 11);
    std::vector<float> got(static_cast<size_t>(T * N)), want(static_cast<size_t>(T * N));
    QuantMatMulReference(w, x.data(), got.data(), T);
    MatMulReference(w, x.data(), want.data(), T);
    std::vector<float> row(static_cast<size_t>(K));
    double worst = 0;
    for (int64_t n = 0; n < N; ++n) {
      DequantizeRow(dtype, w.row(n), row.data(), K);
      for (int64_t t = 0; t < T; ++t) {
        double bound = 0, scale = 0;
        const int64_t span = internal::ActivationSpan(dtype);
        for (int64_t b = 0; b < K / 32; ++b) {
          double amax = 0, wsum = 0;
          for (int64_t i = 32 * b / span * span; i < (32 * b / span + 1) * span; ++i)
            amax = std::max(amax, std::fabs(static_cast<double>(x[static_cast<size_t>(t * K + i)])));
          for (int64_t i = 32 * b; i < 32 * b + 32; ++i) {
            wsum += std::fabs(row[static_cast<size_t>(i)]);
            scale += std::fabs(row[static_cast<size_t>(i)] * x[static_cast<size_t>(t * K + i)]);
          }
          bound += amax / 254 * wsum;
        }
        const double err = std::fabs(got[static_cast<size_t>(t * N + n)] - want[static_cast<size_t>(t * N + n)]);
        EXPECT_LE(err, bound * (1 + 1e-5) + 1e-5 * scale) << Name(dtype) << " t " << t << " n " << n;
        worst = std::max(worst, err / scale);
      }
    }
    std::printf("[ %s ] max |int8-activation - f32| / Σ|x w| = %.2e\n", Name(dtype), worst);
  }
}

TEST(PackedWeight, PacksOnlyWhatTheIntegerPathTakes) {
  EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(DType::kQ4_0, 32, 64, 1)), nullptr);
  EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(DType::kQ8_0, 16, 32, 1)), nullptr);
  EXPECT_EQ(PackedWeight::PackAnyCpu(RandomWeight(DType::kQ4_0, 24, 64, 1)), nullptr);  // rows not a multiple of 16
  EXPECT_EQ(PackedWeight::PackAnyCpu(RandomWeight(DType::kF16, 32, 64, 1)), nullptr);
  EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(DType::kQ4_K, 32, 256, 1)), nullptr);
  EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(DType::kQ6_K, 32, 256, 1)), nullptr);
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1})
    EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(t, 16, 32, 1)), nullptr) << Name(t);
}

struct Shape {
  DType dtype;
  int64_t N, K, T;
};

std::vector<Shape> Shapes() {
  std::vector<Shape> v;
  for (DType d :
       {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1})
    for (int64_t T : {1, 2, 5, 7, 8, 9, 21})
      for (auto [N, K] : {std::pair<int64_t, int64_t>{16, 256}, {48, 512}, {64, 1280}}) v.push_back({d, N, K, T});
  for (DType d : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1})
    v.push_back({d, 32, 96, 3});  // K not a multiple of 256
  for (DType d : {DType::kQ4_K, DType::kQ6_K, DType::kQ4_0})
    v.push_back({d, 16, 16384, 21});  // rows in two L2 chunks (16 rows of 16 KiB each)
  // K-quant prefill (quant_matmul_kquant_gemm_avx512.cpp): two row blocks of 120 (the second 10), two K blocks of
  // 8 super-blocks, a pair of groups and a single one
  for (DType d : {DType::kQ4_K, DType::kQ6_K}) v.push_back({d, 48, 4096, 130});
  // with the rows above, every height of Q6_K's tile of up to 8 rows (1 .. 8) and of Q4_K's (1 .. 4)
  for (DType d : {DType::kQ4_K, DType::kQ6_K})
    for (int64_t T : {3, 4, 6}) v.push_back({d, 32, 512, T});
  return v;
}

TEST(QuantMatMul, ScalarKernelOverPackedLayoutEqualsReference) {
  for (const Shape& s : Shapes()) {
    const Tensor w = RandomWeight(s.dtype, s.N, s.K, static_cast<uint32_t>(s.N + s.K));
    const std::vector<float> x = Random(static_cast<size_t>(s.T * s.K), static_cast<uint32_t>(s.T));
    std::vector<float> want(static_cast<size_t>(s.T * s.N));
    QuantMatMulReference(w, x.data(), want.data(), s.T);
    const auto p = PackedWeight::PackAnyCpu(w);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(PackedScalar(*p, x, s.T), want) << Name(s.dtype) << " " << s.N << "x" << s.K << " T " << s.T;
  }
}

// `run` (a kernel over the packed weight) against the reference on shape s, bit for bit.
template <class Run>
void ExpectEqualsReference(const Shape& s, uint32_t seed, const std::string& what, const Run& run) {
  const Tensor w = RandomWeight(s.dtype, s.N, s.K, static_cast<uint32_t>(s.N * seed + s.K));
  const std::vector<float> x = Random(static_cast<size_t>(s.T * s.K), static_cast<uint32_t>(s.T + seed));
  std::vector<float> want(static_cast<size_t>(s.T * s.N)), got(static_cast<size_t>(s.T * s.N), -1.0f);
  QuantMatMulReference(w, x.data(), want.data(), s.T);
  const auto p = PackedWeight::PackAnyCpu(w);
  ASSERT_NE(p, nullptr);
  run(*p, x.data(), got.data(), s.T);
  EXPECT_EQ(got, want) << what << " " << Name(s.dtype) << " " << s.N << "x" << s.K << " T " << s.T;
}

TEST(QuantMatMul, DispatchedKernelEqualsReference) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: QuantMatMul runs the scalar kernel tested above";
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (const Shape& s : Shapes())
      ExpectEqualsReference(s, 3, "threads " + std::to_string(threads),
                            [&](const PackedWeight& p, const float* x, float* y, int64_t T) { QuantMatMul(p, x, y, T, pool); });
  }
}

// Every integer path this CPU can run (AVX2's vpmaddubsw, AVX-VNNI's 256-bit vpdpbusd, AVX-512 VNNI), forced
// as STRATA_ISA would, bit for bit against the reference for the dtypes it takes.
TEST(QuantMatMul, EveryIsaPathEqualsTheReference) {
  ThreadPool pool(2);
  int ran = 0;
  for (QuantIsa isa : {QuantIsa::kAvx2, QuantIsa::kAvxVnni, QuantIsa::kAvx512Vnni}) {
    if (!QuantIsaSupported(isa)) {
      std::printf("[ %s ] not on this CPU: skipped\n", QuantIsaName(isa));
      continue;
    }
    ++ran;
    for (const Shape& s : Shapes())
      if (QuantIsaTakes(isa, s.dtype))
        ExpectEqualsReference(s, 7, QuantIsaName(isa), [&](const PackedWeight& p, const float* x, float* y, int64_t T) {
          QuantMatMulWithIsa(isa, p, x, y, T, pool);
        });
  }
  if (ran == 0) GTEST_SKIP() << "no integer path on this CPU";
}

// The AVX2 and AVX-512 activation quantizers against the scalar one, byte for byte, with a scale per 32 and per
// 256 values: random rows, halves (rounded to even), an all-zero block; the largest value in the second span's
// last block, so a span's amax must come from all of it.
TEST(QuantMatMul, SimdActivationQuantizationEqualsScalar) {
  const int64_t K = 512, nb = K / 32;
  std::vector<float> x = Random(static_cast<size_t>(K), 17, 3.0f);
  for (int64_t i = 32; i < 64; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i - 48) + 0.5f;  // ties
  x[32] = 127.0f;  // amax 127: the scale is 1, so each x.5 lands on a tie
  for (int64_t i = 64; i < 96; ++i) x[static_cast<size_t>(i)] = 0.0f;
  x[500] = -9.0f;
  struct Out {
    std::vector<int8_t> q = std::vector<int8_t>(512);
    std::vector<float> d = std::vector<float>(16), ds = std::vector<float>(16);
    std::vector<int32_t> corr = std::vector<int32_t>(16), corr16 = std::vector<int32_t>(32);
  };
  using Quantizer = void (*)(const float*, int64_t, int32_t, int8_t*, float*, int32_t*, float*, int32_t*, int64_t);
  std::vector<std::pair<const char*, Quantizer>> simd;
  if (QuantIsaSupported(QuantIsa::kAvx2)) simd.emplace_back("avx2", internal::QuantizeRowAvx2);
  if (QuantIsaSupported(QuantIsa::kAvx512Vnni)) simd.emplace_back("avx512", internal::QuantizeRowAvx512);
  if (simd.empty()) GTEST_SKIP() << "no AVX2";
  for (const int64_t span : {32, 256}) {
    Out a;
    internal::QuantizeRowScalar(x.data(), K, 128, a.q.data(), a.d.data(), a.corr.data(), a.ds.data(), a.corr16.data(),
                                span);
    ASSERT_EQ(static_cast<int64_t>(a.d.size()), nb);
    if (span == 256) {  // one scale a span, from its largest value
      EXPECT_EQ(a.d[0], 127.0f / 127.0f);
      EXPECT_EQ(a.d[7], a.d[0]);
      EXPECT_EQ(a.d[8], 9.0f / 127.0f);
      EXPECT_EQ(a.d[15], a.d[8]);
    }
    for (const auto& [name, quantize] : simd) {
      Out b;
      quantize(x.data(), K, 128, b.q.data(), b.d.data(), b.corr.data(), b.ds.data(), b.corr16.data(), span);
      EXPECT_EQ(a.q, b.q) << name << " span " << span;
      EXPECT_EQ(a.d, b.d) << name << " span " << span;
      EXPECT_EQ(a.ds, b.ds) << name << " span " << span;
      EXPECT_EQ(a.corr, b.corr) << name << " span " << span;
      EXPECT_EQ(a.corr16, b.corr16) << name << " span " << span;
    }
  }
}

// The extremes 16-bit pair sums must survive on AVX2: Q8_0 weights of -128 and 127 against activations that
// quantize to -127 and 127 (vpmaddubsw saturates at 2^15 if the operands were arranged naively).
TEST(QuantMatMul, Avx2PairSumsDoNotSaturate) {
  if (!QuantIsaSupported(QuantIsa::kAvx2)) GTEST_SKIP() << "no AVX2";
  const int64_t N = 16, K = 64;
  auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(N * K / 32 * sizeof(BlockQ8_0)));
  auto* blocks = reinterpret_cast<BlockQ8_0*>(bytes->data());
  for (int64_t b = 0; b < N * K / 32; ++b) {
    blocks[b].d = Fp32ToFp16(1.0f);
    for (int i = 0; i < 32; ++i) blocks[b].qs[i] = static_cast<int8_t>((b + i / 2) % 2 ? -128 : 127);
  }
  const Tensor w = Tensor::View(DType::kQ8_0, {N, K}, bytes->data(), bytes);
  std::vector<float> x(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) x[static_cast<size_t>(k)] = (k / 2) % 3 ? -1.0f : 1.0f;
  std::vector<float> want(static_cast<size_t>(N)), got(static_cast<size_t>(N));
  QuantMatMulReference(w, x.data(), want.data(), 1);
  const auto p = PackedWeight::PackAnyCpu(w);
  ThreadPool pool(1);
  for (QuantIsa isa : {QuantIsa::kAvx2, QuantIsa::kAvxVnni}) {
    if (!QuantIsaSupported(isa)) continue;
    QuantMatMulWithIsa(isa, *p, x.data(), got.data(), 1, pool);
    EXPECT_EQ(got, want) << QuantIsaName(isa);
  }
}

TEST(QuantMatMul, ZeroBlocksQuantizeToZero) {
  // An all-zero activation block has d = 0 and must give 0, not NaN (1 / d is taken as 0).
  const Tensor w = RandomWeight(DType::kQ4_0, 16, 64, 3);
  std::vector<float> x(64, 0.0f), y(16, 1.0f);
  x[40] = 2.5f;
  QuantMatMulReference(w, x.data(), y.data(), 1);
  std::vector<float> row(64);
  for (int64_t n = 0; n < 16; ++n) {
    DequantizeRow(DType::kQ4_0, w.row(n), row.data(), 64);
    EXPECT_FLOAT_EQ(y[static_cast<size_t>(n)], 2.5f * row[40]);
  }
}

}  // namespace
}  // namespace strata::kernels
