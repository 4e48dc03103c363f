// The integer matmul for Q2_K, Q3_K and Q5_K weights: the reference against hand-computed integers and
// within 8-bit activation rounding of the F32 reference; the scalar kernel over the packed layout and the
// dispatched (AVX-512 VNNI) kernel against the reference, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/kernels/quant_matmul_internal.h"

namespace strata::kernels {
namespace {

using testing::Random;
using testing::RandomWeight;

constexpr DType kTypes[] = {DType::kQ2_K, DType::kQ3_K, DType::kQ5_K};

std::vector<float> ScalarOverPacked(const PackedWeight& p, const std::vector<float>& x, int64_t T) {
  const int64_t K = p.cols(), nb = K / 32;
  std::vector<int8_t> q(static_cast<size_t>(T * K));
  std::vector<float> d(static_cast<size_t>(T * nb)), ds(d.size());
  std::vector<int32_t> corr(d.size()), corr16(2 * d.size());
  for (int64_t t = 0; t < T; ++t)
    internal::QuantizeRowScalar(x.data() + t * K, K, 0, q.data() + t * K, d.data() + t * nb, corr.data() + t * nb,
                                ds.data() + t * nb, corr16.data() + 2 * t * nb);
  std::vector<float> y(static_cast<size_t>(T * p.rows()));
  internal::QuantRowsScalar(p, {T, K, nb, q.data(), d.data(), corr.data(), ds.data(), corr16.data()}, y.data(), 0,
                            p.rows() / kPackRows);
  return y;
}

// 16 rows of one super-block each whose weights are small integers w(n, e) (scales 1, d 1, mins 0 where the
// type has them), against activations that quantize exactly (each block's max is 127): the output is the exact
// integer dot product.
TEST(QuantMatMulQ2Q3Q5, ReferenceMatchesHandComputedValues) {
  const int64_t N = 16, K = 256;
  std::vector<float> x(K);
  for (int64_t k = 0; k < K; ++k) x[static_cast<size_t>(k)] = static_cast<float>(k % 32 == 0 ? 127 : (k * 37) % 255 - 127);
  for (DType t : kTypes) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(N * RowBytes(t, K)));
    std::vector<int> wv(static_cast<size_t>(N * K));
    for (int64_t n = 0; n < N; ++n) {
      uint8_t* blk = bytes->data() + n * RowBytes(t, K);
      const uint16_t one = Fp32ToFp16(1.0f);
      for (int e = 0; e < 256; ++e) {
        const int q = static_cast<int>((n * 5 + e * 3) % (t == DType::kQ2_K ? 4 : t == DType::kQ3_K ? 8 : 32));
        if (t == DType::kQ2_K) {  // qs at 16, d at 80; scale 1, min 0
          auto* b = reinterpret_cast<BlockQ2_K*>(blk);
          b->qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>(q << (2 * ((e % 128) / 32)));
          b->scales[e / 16] = 1;
          b->d = one;
          wv[static_cast<size_t>(n * K + e)] = q;
        } else if (t == DType::kQ3_K) {  // scale 1 is 33: low nibbles 1, top bits 2
          auto* b = reinterpret_cast<BlockQ3_K*>(blk);
          b->qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((q & 3) << (2 * ((e % 128) / 32)));
          b->hmask[e % 32] |= static_cast<uint8_t>((q >> 2) << (e / 32));
          for (int i = 0; i < 8; ++i) b->scales[i] = 0x11;
          for (int i = 8; i < 12; ++i) b->scales[i] = 0xaa;
          b->d = one;
          wv[static_cast<size_t>(n * K + e)] = q - 4;
        } else {  // scales 1, mins 0
          auto* b = reinterpret_cast<BlockQ5_K*>(blk);
          const int j = e / 32, l = e % 32;
          b->qs[32 * (j / 2) + l] |= static_cast<uint8_t>((q & 15) << (4 * (j % 2)));
          b->qh[l] |= static_cast<uint8_t>((q >> 4) << j);
          for (int i = 0; i < 4; ++i) b->scales[i] = 1;
          for (int i = 8; i < 12; ++i) b->scales[i] = 1;
          b->d = one;
          wv[static_cast<size_t>(n * K + e)] = q;
        }
      }
    }
    const Tensor w = Tensor::View(t, {N, K}, bytes->data(), bytes);
    std::vector<float> y(N), deq(K);
    QuantMatMulReference(w, x.data(), y.data(), 1);
    for (int64_t n = 0; n < N; ++n) {
      DequantizeRow(t, w.row(n), deq.data(), K);
      long want = 0;
      for (int64_t k = 0; k < K; ++k) {
        ASSERT_EQ(deq[static_cast<size_t>(k)], wv[static_cast<size_t>(n * K + k)]) << Name(t) << " weight " << k;
        want += static_cast<long>(wv[static_cast<size_t>(n * K + k)]) * static_cast<long>(x[static_cast<size_t>(k)]);
      }
      EXPECT_EQ(y[static_cast<size_t>(n)], static_cast<float>(want)) << Name(t) << " row " << n;
    }
  }
}

TEST(QuantMatMulQ2Q3Q5, ReferenceWithinActivationRoundingOfF32) {
  // As in quant_matmul_test.cpp: each output moves by at most Σ_blocks (amax_b / 254) Σ_i∈b |w_i|.
  const int64_t N = 32, K = 768, T = 3;
  for (DType t : kTypes) {
    const Tensor w = RandomWeight(t, N, K, 7);
    const std::vector<float> x = Random(static_cast<size_t>(T * K), 11);
    std::vector<float> got(static_cast<size_t>(T * N)), want(got.size()), row(static_cast<size_t>(K));
    QuantMatMulReference(w, x.data(), got.data(), T);
    MatMulReference(w, x.data(), want.data(), T);
    for (int64_t n = 0; n < N; ++n) {
      DequantizeRow(t, w.row(n), row.data(), K);
      for (int64_t r = 0; r < T; ++r) {
        double bound = 0, scale = 0;
        for (int64_t b = 0; b < K / 32; ++b) {
          double amax = 0, wsum = 0;
          for (int64_t i = 32 * b; i < 32 * b + 32; ++i) {
            const double xi = x[static_cast<size_t>(r * K + i)], wi = row[static_cast<size_t>(i)];
            amax = std::max(amax, std::fabs(xi));
            wsum += std::fabs(wi);
            scale += std::fabs(wi * xi);
          }
          bound += amax / 254 * wsum;
        }
        const double err = std::fabs(got[static_cast<size_t>(r * N + n)] - want[static_cast<size_t>(r * N + n)]);
        EXPECT_LE(err, bound * (1 + 1e-5) + 1e-5 * scale) << Name(t) << " t " << r << " n " << n;
      }
    }
  }
}

struct KShape {
  DType dtype;
  int64_t N, K, T;
};

std::vector<KShape> KShapes() {
  std::vector<KShape> v;
  for (DType d : kTypes)
    for (int64_t T : {1, 2, 3, 4, 5, 9})
      for (auto [N, K] : {std::pair<int64_t, int64_t>{16, 256}, {48, 512}, {32, 1280}}) v.push_back({d, N, K, T});
  return v;
}

TEST(QuantMatMulQ2Q3Q5, PacksTheThreeTypes) {
  for (DType t : kTypes) {
    EXPECT_NE(PackedWeight::PackAnyCpu(RandomWeight(t, 32, 256, 1)), nullptr) << Name(t);
    EXPECT_EQ(PackedWeight::PackAnyCpu(RandomWeight(t, 24, 256, 1)), nullptr) << Name(t);  // rows not a multiple of 16
  }
}

TEST(QuantMatMulQ2Q3Q5, ScalarKernelOverPackedLayoutEqualsReference) {
  for (const KShape& s : KShapes()) {
    const Tensor w = RandomWeight(s.dtype, s.N, s.K, static_cast<uint32_t>(s.N + s.K));
    const std::vector<float> x = Random(static_cast<size_t>(s.T * s.K), static_cast<uint32_t>(s.T));
    std::vector<float> want(static_cast<size_t>(s.T * s.N));
    QuantMatMulReference(w, x.data(), want.data(), s.T);
    const auto p = PackedWeight::PackAnyCpu(w);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(ScalarOverPacked(*p, x, s.T), want) << Name(s.dtype) << " " << s.N << "x" << s.K << " T " << s.T;
  }
}

TEST(QuantMatMulQ2Q3Q5, DispatchedKernelEqualsReference) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: QuantMatMul runs the scalar kernel tested above";
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (const KShape& s : KShapes()) {
      const Tensor w = RandomWeight(s.dtype, s.N, s.K, static_cast<uint32_t>(s.N * 3 + s.K));
      const std::vector<float> x = Random(static_cast<size_t>(s.T * s.K), static_cast<uint32_t>(s.T + 5));
      std::vector<float> want(static_cast<size_t>(s.T * s.N)), got(want.size(), -1.0f);
      QuantMatMulReference(w, x.data(), want.data(), s.T);
      const auto p = PackedWeight::PackAnyCpu(w);
      ASSERT_NE(p, nullptr);
      QuantMatMul(*p, x.data(), got.data(), s.T, pool);
      EXPECT_EQ(got, want) << Name(s.dtype) << " " << s.N << "x" << s.K << " T " << s.T << " threads " << threads;
    }
  }
}

}  // namespace
}  // namespace strata::kernels
