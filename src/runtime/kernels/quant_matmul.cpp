// Packing of Q8_0 / Q4_0 / Q4_K / Q6_K weights into the 16-row interleaved layout, activation quantization, the
// scalar kernel over the packed layout, the reference, and the dispatch of QuantMatMul.
// (Q4_1 / Q5_0 / Q5_1 have their packing and kernels in quant_matmul_q4_1_q5.cpp.)
#include "runtime/kernels/quant_matmul.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "runtime/kernels/cpu_features.h"
#include "runtime/kernels/quant_matmul_internal.h"
#include "runtime/kernels/quant_matmul_q4_1_q5.h"
#include "runtime/kernels/quant_matmul_q2_q3_q5.h"

namespace strata::kernels {
namespace {

std::atomic<int> g_enabled{-1};  // -1: not read from the environment yet

int32_t WeightOffset(DType t) {
  if (internal::IsQ4_1Q5(t)) return internal::Q4_1Q5Offset(t);
  return t == DType::kQ4_0 ? 8 : t == DType::kQ8_0 ? 128 : 0;
}
int64_t UnitsPerBlock(DType t) { return t == DType::kQ4_0 ? 4 : 8; }  // 4-byte units of quants per row

// Row r's quant bytes of one block, in the order the packed units hold them (Q8_0 shifted to unsigned).
void BlockQuantBytes(DType t, const uint8_t* row_block, uint8_t* out) {
  if (t == DType::kQ4_0) {
    std::memcpy(out, reinterpret_cast<const BlockQ4_0*>(row_block)->qs, 16);
  } else {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(row_block);
    for (int i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(b->qs[i] + 128);
  }
}

uint16_t BlockScale(const uint8_t* row_block) {
  uint16_t d;
  std::memcpy(&d, row_block, sizeof(d));  // both block types start with the fp16 scale
  return d;
}

}  // namespace

PackedWeight::PackedWeight(DType dtype, int64_t n, int64_t k) : dtype_(dtype), n_(n), k_(k) {
  bytes_ = static_cast<size_t>((n / kPackRows) * (k / block_elems()) * block_bytes());
  // Read once per decoded token: transparent huge pages, as for the model file (core/mapped_file.cpp). The
  // copy starts on a 2 MiB boundary, so its whole huge pages are huge (unaligned, the pages at either end of
  // every tensor stayed 4 KiB: a third of a 1B model's packed weights). The tail past the last whole huge page
  // stays on small pages: as a huge page it would be resident padding, 100 MiB over a 1B model's weights,
  // where the model is to be held once (runtime/packed_weights.h). A copy under 2 MiB stays on small pages:
  // zeroing a huge page made loading a 2 MiB model take 180 ms (the Composition of Experts loads such experts
  // on demand).
  constexpr size_t kHuge = size_t{2} << 20;
  mapped_ = (bytes_ + kHuge - 1) / kHuge * kHuge + kHuge;
  void* p = bytes_ < kHuge ? MAP_FAILED
                           : ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) {
    map_ = static_cast<uint8_t*>(p);
    data_ = map_ + (kHuge - reinterpret_cast<uintptr_t>(map_) % kHuge) % kHuge;
    ::madvise(data_, bytes_ / kHuge * kHuge, MADV_HUGEPAGE);
  } else {
    mapped_ = 0;
    data_ = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes_ + 63) / 64 * 64));
  }
}

PackedWeight::~PackedWeight() {
  if (mapped_) ::munmap(map_, mapped_);
  else std::free(data_);
}

int64_t PackedWeight::block_bytes() const {
  if (dtype_ == DType::kQ4_K) return internal::kQ4K_BlockBytes;
  if (dtype_ == DType::kQ6_K) return internal::kQ6K_BlockBytes;
  if (internal::IsQ4_1Q5(dtype_)) return internal::LayoutOf(dtype_).bytes;
  if (internal::IsQ2Q3Q5K(dtype_)) return internal::Q2Q3Q5KBlockBytes(dtype_);
  return kPackRows * (2 + 4 * UnitsPerBlock(dtype_));
}

namespace {

void PackQ4_KBlock(const BlockQ4_K* const* rows, uint8_t* dst) {
  using namespace internal;
  for (int64_t r = 0; r < kPackRows; ++r) {
    const BlockQ4_K& b = *rows[r];
    std::memcpy(dst + kQ4K_D + 2 * r, &b.d, 2);
    std::memcpy(dst + kQ4K_Dmin + 2 * r, &b.dmin, 2);
    for (int j = 0; j < 8; ++j) Q4_KScaleMin(j, b.scales, dst + kQ4K_Sc + 16 * j + r, dst + kQ4K_M + 16 * j + r);
    for (int p = 0; p < 4; ++p)
      for (int u = 0; u < 8; ++u) std::memcpy(dst + kQ4K_Qs + 512 * p + 64 * u + 4 * r, b.qs + 32 * p + 4 * u, 4);
  }
}

void PackQ6_KBlock(const BlockQ6_K* const* rows, uint8_t* dst) {
  using namespace internal;
  for (int64_t r = 0; r < kPackRows; ++r) {
    const BlockQ6_K& b = *rows[r];
    std::memcpy(dst + kQ6K_D + 2 * r, &b.d, 2);
    for (int s = 0; s < 16; ++s) dst[kQ6K_Sc + 16 * s + r] = static_cast<uint8_t>(b.scales[s]);
    for (int u = 0; u < 8; ++u)
      for (int i = 0; i < 4; ++i) {
        const int l = 4 * u + i;  // element of each 32-group
        for (int h = 0; h < 2; ++h) {
          const int qd = Q6_KQuant(b, 32 * (4 * h + 3) + l);
          for (int k = 0; k < 3; ++k)
            dst[Q6KUnit(h, k, u) + 4 * r + i] =
                static_cast<uint8_t>(Q6_KQuant(b, 32 * (4 * h + k) + l) | ((qd >> (2 * k)) & 3) << 6);
        }
      }
  }
}

// Group g's super-block b of a K-quant weight: the 16 rows' blocks, packed by pack.
template <class Block>
void PackSuperBlock(const Tensor& w, int64_t g, int64_t b, uint8_t* dst, void (*pack)(const Block* const*, uint8_t*)) {
  const Block* rows[kPackRows];
  for (int64_t r = 0; r < kPackRows; ++r) rows[r] = reinterpret_cast<const Block*>(w.row(g * kPackRows + r)) + b;
  pack(rows, dst);
}

}  // namespace

std::unique_ptr<PackedWeight> PackedWeight::PackAnyCpu(const Tensor& w) {
  const DType t = w.dtype();
  if (w.rank() != 2 || (t != DType::kQ4_0 && t != DType::kQ8_0 && t != DType::kQ4_K && t != DType::kQ6_K &&
                        !internal::IsQ4_1Q5(t) && !internal::IsQ2Q3Q5K(t)))
    return nullptr;
  const int64_t n = w.dim(0), k = w.dim(1), elems = Traits(t).block_elems;
  if (n % kPackRows != 0 || k % elems != 0 || n == 0) return nullptr;
  auto p = std::make_unique<PackedWeight>(t, n, k);
  if (!p->data_) return nullptr;
  if (internal::IsQ2Q3Q5K(t)) {  // blocks packed by quant_matmul_q2_q3_q5.cpp
    internal::PackQ2Q3Q5K(w, *p);
    return p;
  }
  const int64_t nb = k / elems, units = UnitsPerBlock(t), src_block = RowBytes(t, elems);
  uint8_t quants[32];
  for (int64_t g = 0; g < n / kPackRows; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = const_cast<uint8_t*>(p->block(g, b));
      if (t == DType::kQ4_K) {
        PackSuperBlock(w, g, b, dst, PackQ4_KBlock);
        continue;
      }
      if (t == DType::kQ6_K) {
        PackSuperBlock(w, g, b, dst, PackQ6_KBlock);
        continue;
      }
      if (internal::IsQ4_1Q5(t)) {
        internal::PackQ4_1Q5Block(w, g, b, dst);
        continue;
      }
      for (int64_t r = 0; r < kPackRows; ++r) {
        const uint8_t* src = static_cast<const uint8_t*>(w.row(g * kPackRows + r)) + b * src_block;
        const uint16_t d = BlockScale(src);
        std::memcpy(dst + 2 * r, &d, sizeof(d));
        BlockQuantBytes(t, src, quants);
        for (int64_t j = 0; j < units; ++j) std::memcpy(dst + 32 + 64 * j + 4 * r, quants + 4 * j, 4);
      }
    }
  return p;
}

std::unique_ptr<PackedWeight> PackedWeight::Pack(const Tensor& w) {
  if (!QuantizedActivationsEnabled() || !QuantIsaTakes(ActiveQuantIsa(), w.dtype())) return nullptr;
  return PackAnyCpu(w);
}

bool QuantIsaSupported(QuantIsa isa) {
#if defined(__x86_64__)
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c();
  switch (isa) {
    case QuantIsa::kAvx512Vnni: return HasVnni();
    case QuantIsa::kAvxVnni: return avx2 && CpuHasAvxVnni();
    case QuantIsa::kAvx2: return avx2;
    case QuantIsa::kNone: return true;
  }
#endif
  return isa == QuantIsa::kNone;
}

QuantIsa ActiveQuantIsa() {
  static const QuantIsa active = [] {
    const char* forced = IsaOverride();
    const QuantIsa want = !std::strcmp(forced, "scalar") ? QuantIsa::kNone
                          : !std::strcmp(forced, "avx2") ? QuantIsa::kAvx2
                          : !std::strcmp(forced, "avxvnni") ? QuantIsa::kAvxVnni
                                                            : QuantIsa::kAvx512Vnni;
    for (QuantIsa isa : {QuantIsa::kAvx512Vnni, QuantIsa::kAvxVnni, QuantIsa::kAvx2})
      if (isa <= want && QuantIsaSupported(isa)) return isa;
    return QuantIsa::kNone;
  }();
  return active;
}

const char* QuantIsaName(QuantIsa isa) {
  switch (isa) {
    case QuantIsa::kAvx512Vnni: return "avx512vnni";
    case QuantIsa::kAvxVnni: return "avxvnni";
    case QuantIsa::kAvx2: return "avx2";
    case QuantIsa::kNone: break;
  }
  return "none";
}

bool QuantIsaTakes(QuantIsa isa, DType t) {
  if (isa == QuantIsa::kNone) return false;
  if (isa == QuantIsa::kAvx512Vnni) return true;
  return t == DType::kQ8_0 || t == DType::kQ4_0;
}

bool HasVnni() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
                          CpuHasF16c() && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

bool QuantizedActivationsEnabled() {
  int v = g_enabled.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* env = std::getenv("STRATA_FLOAT_ACTIVATIONS");
    v = (env && *env && std::strcmp(env, "0") != 0) ? 0 : 1;
    g_enabled.store(v, std::memory_order_relaxed);
  }
  return v == 1 && ActiveQuantIsa() != QuantIsa::kNone;
}

void SetQuantizedActivations(bool on) { g_enabled.store(on ? 1 : 0, std::memory_order_relaxed); }

namespace internal {

void QuantizeRowScalar(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds,
                       int32_t* corr16, int64_t span) {
  float amax = 0;
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + 32 * b;
    if (b % (span / 32) == 0) {  // a new span
      amax = 0;
      for (int64_t i = 0; i < span; ++i) amax = std::max(amax, std::fabs(xb[i]));
    }
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    int32_t half[2] = {0, 0};
    for (int i = 0; i < 32; ++i) {
      const auto v = static_cast<int32_t>(std::nearbyint(xb[i] * id));
      q[32 * b + i] = static_cast<int8_t>(v);
      half[i / 16] += v;
    }
    const int32_t sum = half[0] + half[1];
    corr16[2 * b] = -32 * half[0];
    corr16[2 * b + 1] = -32 * half[1];
    d[b] = db;
    corr[b] = -offset * sum;
    ds[b] = db * static_cast<float>(sum);
  }
}

namespace {

// One row's Q4_K super-block against activation blocks 8 sb .. 8 sb + 7 (one scale d_x: ActivationSpan), in
// the order the SIMD kernel takes: per sub-block, the int dot product to float times the scale, summed; the
// mins' term (d_x Σ q_x per block) likewise; then d d_x and dmin applied once per super-block.
float Q4_KSuperBlock(const uint8_t* qs_units, int64_t unit_stride, const int32_t* sc, const int32_t* m, float d,
                     float dmin, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  float main = 0, mins = 0;
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    const int8_t* xq = a.q + t * a.K + 32 * b;
    int32_t s = 0;
    for (int u = 0; u < 8; ++u)
      for (int i = 0; i < 4; ++i) {
        const uint8_t byte = qs_units[(j / 2) * 8 * unit_stride + u * unit_stride + i];
        s += (j % 2 ? byte >> 4 : byte & 0x0f) * xq[4 * u + i];
      }
    main = std::fma(static_cast<float>(s), static_cast<float>(sc[j]), main);
    mins = std::fma(static_cast<float>(m[j]), a.ds[t * a.nb + b], mins);
  }
  return std::fma(-dmin, mins, std::fma(d * a.d[t * a.nb + 8 * sb], main, acc));
}

// One row's Q6_K super-block (quants q[256] 0..63, int8 scales sc[16]) against activation blocks 8 sb .. (one
// scale d_x): per 16 values, the int dot product from its -32 Σ q_x correction, to float, times its scale,
// summed; d d_x applied once per super-block. The SIMD kernel's operations in its order.
float Q6_KSuperBlock(const int32_t* q, const int32_t* sc, float d, const QuantActs& a, int64_t t, int64_t sb,
                     float acc) {
  float main = 0;
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    const int8_t* xq = a.q + t * a.K + 32 * b;
    int32_t half[2] = {a.corr16[t * 2 * a.nb + 2 * b], a.corr16[t * 2 * a.nb + 2 * b + 1]};
    for (int i = 0; i < 32; ++i) half[i / 16] += q[32 * j + i] * xq[i];
    main = std::fma(static_cast<float>(half[0]), static_cast<float>(sc[2 * j]), main);
    main = std::fma(static_cast<float>(half[1]), static_cast<float>(sc[2 * j + 1]), main);
  }
  return std::fma(d * a.d[t * a.nb + 8 * sb], main, acc);
}

// y for groups g0..g1 of a super-block dtype; add(blk, r, a, t, sb, acc) adds super-block sb of row r.
template <class F>
void SuperBlockRows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1, F add) {
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < a.T; ++t)
      for (int64_t r = 0; r < kPackRows; ++r) {
        float acc = 0;
        for (int64_t sb = 0; sb < a.K / 256; ++sb) acc = add(w.block(g, sb), r, a, t, sb, acc);
        y[t * w.rows() + g * kPackRows + r] = acc;
      }
}

float PackedQ6_K(const uint8_t* blk, int64_t r, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  int32_t q[256], sc[16];
  for (int s = 0; s < 16; ++s) sc[s] = static_cast<int8_t>(blk[kQ6K_Sc + 16 * s + r]);
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) {
      const int64_t in_unit = 4 * r + l % 4;
      const int h = j / 4, k = j % 4, u = l / 4;
      if (k < 3) {
        q[32 * j + l] = blk[Q6KUnit(h, k, u) + in_unit] & 0x3f;
      } else {
        q[32 * j + l] = 0;
        for (int p = 0; p < 3; ++p) q[32 * j + l] |= (blk[Q6KUnit(h, p, u) + in_unit] >> 6) << (2 * p);
      }
    }
  uint16_t dh;
  std::memcpy(&dh, blk + kQ6K_D + 2 * r, 2);
  return Q6_KSuperBlock(q, sc, Fp16ToFp32(dh), a, t, sb, acc);
}

float PackedQ4_K(const uint8_t* blk, int64_t r, const QuantActs& a, int64_t t, int64_t sb, float acc) {
  int32_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) sc[j] = blk[kQ4K_Sc + 16 * j + r], m[j] = blk[kQ4K_M + 16 * j + r];
  uint16_t dh, mh;
  std::memcpy(&dh, blk + kQ4K_D + 2 * r, 2);
  std::memcpy(&mh, blk + kQ4K_Dmin + 2 * r, 2);
  // unit u of pair p, row r: byte kQ4K_Qs + 512 p + 64 u + 4 r (unit stride 64, pair stride 8 * 64)
  return Q4_KSuperBlock(blk + kQ4K_Qs + 4 * r, 64, sc, m, Fp16ToFp32(dh), Fp16ToFp32(mh), a, t, sb, acc);
}

}  // namespace

void QuantRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  if (w.dtype() == DType::kQ4_K) return SuperBlockRows(w, a, y, g0, g1, PackedQ4_K);
  if (w.dtype() == DType::kQ6_K) return SuperBlockRows(w, a, y, g0, g1, PackedQ6_K);
  if (IsQ4_1Q5(w.dtype())) return QuantRowsScalarQ4_1Q5(w, a, y, g0, g1);
  if (IsQ2Q3Q5K(w.dtype())) return Q2Q3Q5KRowsScalar(w, a, y, g0, g1);
  const bool q4 = w.dtype() == DType::kQ4_0;
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < a.T; ++t)
      for (int64_t r = 0; r < kPackRows; ++r) {
        float acc = 0;
        for (int64_t b = 0; b < a.nb; ++b) {
          const uint8_t* blk = w.block(g, b);
          const int8_t* xq = a.q + t * a.K + 32 * b;
          int32_t s = a.corr[t * a.nb + b];
          for (int64_t u = 0; u < (q4 ? 4 : 8); ++u)
            for (int64_t i = 0; i < 4; ++i) {
              const uint8_t byte = blk[32 + 64 * u + 4 * r + i];
              if (q4) {
                s += (byte & 0x0f) * xq[4 * u + i] + (byte >> 4) * xq[16 + 4 * u + i];
              } else {
                s += byte * xq[4 * u + i];
              }
            }
          uint16_t dh;
          std::memcpy(&dh, blk + 2 * r, sizeof(dh));
          acc = std::fma(static_cast<float>(s), Fp16ToFp32(dh) * a.d[t * a.nb + b], acc);
        }
        y[t * w.rows() + g * kPackRows + r] = acc;
      }
}

}  // namespace internal

namespace {

struct ActBuffer {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> corr;
  std::vector<float> ds;
  std::vector<int32_t> corr16;
};

internal::QuantActs QuantizeActs(const float* x, int64_t T, int64_t K, int32_t offset, int64_t span, ThreadPool& pool,
                                 ActBuffer& buf, QuantIsa isa) {
  const int64_t nb = K / 32;
  buf.q.resize(static_cast<size_t>(T * K));
  buf.d.resize(static_cast<size_t>(T * nb));
  buf.corr.resize(static_cast<size_t>(T * nb));
  buf.ds.resize(static_cast<size_t>(T * nb));
  buf.corr16.resize(static_cast<size_t>(2 * T * nb));
  auto rows = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
#if defined(__x86_64__)
      if (isa != QuantIsa::kNone) {
        auto quantize = isa == QuantIsa::kAvx512Vnni ? internal::QuantizeRowAvx512 : internal::QuantizeRowAvx2;
        quantize(x + t * K, K, offset, buf.q.data() + t * K, buf.d.data() + t * nb, buf.corr.data() + t * nb,
                 buf.ds.data() + t * nb, buf.corr16.data() + 2 * t * nb, span);
        continue;
      }
#endif
      internal::QuantizeRowScalar(x + t * K, K, offset, buf.q.data() + t * K, buf.d.data() + t * nb,
                                  buf.corr.data() + t * nb, buf.ds.data() + t * nb, buf.corr16.data() + 2 * t * nb,
                                  span);
    }
  };
  // A row is a few microseconds of work: only a prompt's many rows are worth the pool.
  if (T >= 8) pool.ParallelFor(T, 4, rows);
  else rows(0, T);
  return {T, K, nb, buf.q.data(), buf.d.data(), buf.corr.data(), buf.ds.data(), buf.corr16.data()};
}

}  // namespace

namespace {

// One output of the reference: row `row` (original block layout) against quantized activation row 0 of a.
float ReferenceRow(DType t, const uint8_t* row, const internal::QuantActs& a) {
  if (internal::IsQ4_1Q5(t)) return internal::ReferenceRowQ4_1Q5(t, row, a);
  if (internal::IsQ2Q3Q5K(t)) return internal::Q2Q3Q5KReferenceRow(t, row, a);
  float acc = 0;
  if (t == DType::kQ6_K) {
    for (int64_t sb = 0; sb < a.K / 256; ++sb) {
      const auto* blk = reinterpret_cast<const BlockQ6_K*>(row) + sb;
      int32_t q[256], sc[16];
      for (int e = 0; e < 256; ++e) q[e] = Q6_KQuant(*blk, e);
      for (int s = 0; s < 16; ++s) sc[s] = blk->scales[s];
      acc = internal::Q6_KSuperBlock(q, sc, Fp16ToFp32(blk->d), a, 0, sb, acc);
    }
    return acc;
  }
  if (t == DType::kQ4_K) {
    for (int64_t sb = 0; sb < a.K / 256; ++sb) {
      const auto* blk = reinterpret_cast<const BlockQ4_K*>(row) + sb;
      int32_t sc[8], m[8];
      for (int j = 0; j < 8; ++j) {
        uint8_t s8, m8;
        Q4_KScaleMin(j, blk->scales, &s8, &m8);
        sc[j] = s8, m[j] = m8;
      }
      // unit u of pair p: qs[32 p + 4 u ..] (unit stride 4, pair stride 32)
      acc = internal::Q4_KSuperBlock(blk->qs, 4, sc, m, Fp16ToFp32(blk->d), Fp16ToFp32(blk->dmin), a, 0, sb, acc);
    }
    return acc;
  }
  for (int64_t b = 0; b < a.nb; ++b) {
    int32_t s = 0;
    uint16_t dh;
    const int8_t* xq = a.q + 32 * b;
    if (t == DType::kQ4_0) {
      const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
      for (int i = 0; i < 16; ++i) s += ((blk->qs[i] & 0x0f) - 8) * xq[i] + ((blk->qs[i] >> 4) - 8) * xq[16 + i];
      dh = blk->d;
    } else {
      const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
      for (int i = 0; i < 32; ++i) s += blk->qs[i] * xq[i];
      dh = blk->d;
    }
    acc = std::fma(static_cast<float>(s), Fp16ToFp32(dh) * a.d[b], acc);
  }
  return acc;
}

}  // namespace

void QuantMatMulWithIsa(QuantIsa isa, const PackedWeight& w, const float* x, float* y, int64_t T, ThreadPool& pool) {
  if (T <= 0) return;
  thread_local ActBuffer buf;  // one per calling (driver) thread; reused across calls
  const internal::QuantActs a =
      QuantizeActs(x, T, w.cols(), WeightOffset(w.dtype()), internal::ActivationSpan(w.dtype()), pool, buf, isa);
  const int64_t groups = w.rows() / kPackRows;
  std::function<void(int64_t, int64_t)> run = [&](int64_t g0, int64_t g1) { internal::QuantRowsScalar(w, a, y, g0, g1); };
#if defined(__x86_64__)
  if (isa == QuantIsa::kAvx512Vnni) run = [&](int64_t g0, int64_t g1) { internal::QuantRowsVnni(w, a, y, g0, g1); };
  if ((isa == QuantIsa::kAvx2 || isa == QuantIsa::kAvxVnni) && QuantIsaTakes(isa, w.dtype()))
    run = [&, vnni = isa == QuantIsa::kAvxVnni](int64_t g0, int64_t g1) { internal::QuantRowsAvx2(w, a, y, g0, g1, vnni); };
#endif
  // ~256K multiply-adds per chunk at least: below that, waking a thread costs more than it saves.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, kPackRows * w.cols() * T));
  pool.ParallelFor(groups, grain, run);
}

void QuantMatMul(const PackedWeight& w, const float* x, float* y, int64_t T, ThreadPool& pool) {
  QuantMatMulWithIsa(ActiveQuantIsa(), w, x, y, T, pool);
}

void QuantMatMulReference(const Tensor& w, const float* x, float* y, int64_t T) {
  const int64_t N = w.dim(0), K = w.dim(1), nb = K / 32;
  std::vector<int8_t> q(static_cast<size_t>(K));
  std::vector<float> d(static_cast<size_t>(nb)), ds(static_cast<size_t>(nb));
  std::vector<int32_t> corr(static_cast<size_t>(nb)), corr16(static_cast<size_t>(2 * nb));
  for (int64_t t = 0; t < T; ++t) {
    internal::QuantizeRowScalar(x + t * K, K, 0, q.data(), d.data(), corr.data(), ds.data(), corr16.data(),
                                internal::ActivationSpan(w.dtype()));
    const internal::QuantActs a{1, K, nb, q.data(), d.data(), corr.data(), ds.data(), corr16.data()};
    for (int64_t n = 0; n < N; ++n) y[t * N + n] = ReferenceRow(w.dtype(), static_cast<const uint8_t*>(w.row(n)), a);
  }
}

}  // namespace strata::kernels
