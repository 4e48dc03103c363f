// MatMul's dispatch (instruction set chosen once, at first use), its split across threads, and the scalar
// reference. The kernels themselves live in matmul_{scalar,avx2,avx512}.cpp.
#include "runtime/kernels/matmul.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "runtime/kernels/cpu_features.h"
#include "runtime/kernels/matmul_internal.h"

namespace strata::kernels {
namespace internal {
namespace {

using RowsFn = void (*)(const Problem&, int64_t, int64_t);

RowsFn RowsFor(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::kAvx512: return MatMulRowsAvx512;
    case Isa::kAvx2: return MatMulRowsAvx2;
#endif
    default: return MatMulRowsScalar;
  }
}

Problem MakeProblem(const Tensor& w, const float* x, float* y, int64_t T) {
  assert(w.rank() == 2);
  assert(w.dim(1) % Traits(w.dtype()).block_elems == 0);
  return Problem{w.dtype(), static_cast<const uint8_t*>(w.data()), w.row_bytes(), w.dim(1), w.dim(0), x, y, T};
}

bool HasKernels(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kQ8_0 || t == DType::kQ4_0 ||
         t == DType::kQ4_K || t == DType::kQ6_K || t == DType::kQ4_1 || t == DType::kQ5_0 || t == DType::kQ5_1;
}

void Run(RowsFn rows, const Problem& p, ThreadPool& pool) {
  if (!HasKernels(p.dtype)) rows = MatMulRowsScalar;  // e.g. I32: the portable path goes through DequantizeRow
  if (p.T <= 0 || p.N <= 0) return;
  // Each chunk should carry enough multiply-adds (~64K) to be worth waking a thread for.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, p.K * p.T));
  pool.ParallelFor(p.N, grain, [&](int64_t n0, int64_t n1) { rows(p, n0, n1); });
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kScalar: return "scalar";
  }
  return "scalar";
}

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return true;
#if defined(__x86_64__)
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c();
    case Isa::kAvx512:
      return IsaSupported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
#else
    default:
      return false;
#endif
  }
  return false;
}

Isa BestIsa() {
  static const Isa best = [] {
    const char* forced = IsaOverride();  // avxvnni is an integer-path name: its F32 path is AVX2's
    const Isa want = !std::strcmp(forced, "scalar") ? Isa::kScalar
                     : !std::strcmp(forced, "avx2") || !std::strcmp(forced, "avxvnni") ? Isa::kAvx2
                                                                                         : Isa::kAvx512;
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
      if (isa <= want && IsaSupported(isa)) return isa;
    return Isa::kScalar;
  }();
  return best;
}

void MatMulWithIsa(Isa isa, const Tensor& w, const float* x, float* y, int64_t T, ThreadPool& pool) {
  assert(IsaSupported(isa));
  Run(RowsFor(isa), MakeProblem(w, x, y, T), pool);
}

}  // namespace internal

void MatMul(const Tensor& w, const float* x, float* y, int64_t T, ThreadPool& pool) {
  static const internal::RowsFn rows = internal::RowsFor(internal::BestIsa());
  internal::Run(rows, internal::MakeProblem(w, x, y, T), pool);
}

void MatMulReference(const Tensor& w, const float* x, float* y, int64_t T) {
  const int64_t N = w.dim(0), K = w.dim(1);
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    DequantizeRow(w.dtype(), w.row(n), row.data(), K);
    for (int64_t t = 0; t < T; ++t) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[t * K + k]) * row[static_cast<size_t>(k)];
      y[t * N + n] = static_cast<float>(acc);
    }
  }
}

const char* MatMulIsa() { return internal::IsaName(internal::BestIsa()); }

}  // namespace strata::kernels
