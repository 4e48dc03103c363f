// Strata's K-quant reference quantizers and dequantizers against ggml's own (quantize_row_q*_K_ref,
// dequantize_row_q*_K from libggml-base): the bytes of every super-block and the bits of every dequantized float
// must be equal, on 4096 super-blocks of each of five distributions. Built and run by quants_vs_ggml.sh;
// exits non-zero on any difference.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"

extern "C" {  // ggml-quants.h, declared here with void* blocks so that ggml's headers are not needed
void quantize_row_q2_K_ref(const float*, void*, int64_t);
void quantize_row_q3_K_ref(const float*, void*, int64_t);
void quantize_row_q4_K_ref(const float*, void*, int64_t);
void quantize_row_q5_K_ref(const float*, void*, int64_t);
void quantize_row_q6_K_ref(const float*, void*, int64_t);
void dequantize_row_q2_K(const void*, float*, int64_t);
void dequantize_row_q3_K(const void*, float*, int64_t);
void dequantize_row_q4_K(const void*, float*, int64_t);
void dequantize_row_q5_K(const void*, float*, int64_t);
void dequantize_row_q6_K(const void*, float*, int64_t);
}

namespace {

using namespace strata;

struct GgmlPair {
  DType type;
  void (*quantize)(const float*, void*, int64_t);
  void (*dequantize)(const void*, float*, int64_t);
};

float Sample(int dist, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  switch (dist) {
    case 0: return 0.02f * normal(rng);                          // gen-model's weights
    case 1: return normal(rng);
    case 2: return std::fabs(normal(rng)) + 0.5f;                // all positive
    case 3: return rng() % 4 == 0 ? 0.0f : 1000 * uniform(rng);  // zeros among large values
    default: return -std::fabs(normal(rng)) * 1e-3f;             // all negative, small
  }
}

}  // namespace

int main() {
  const GgmlPair pairs[] = {{DType::kQ2_K, quantize_row_q2_K_ref, dequantize_row_q2_K},
                            {DType::kQ3_K, quantize_row_q3_K_ref, dequantize_row_q3_K},
                            {DType::kQ4_K, quantize_row_q4_K_ref, dequantize_row_q4_K},
                            {DType::kQ5_K, quantize_row_q5_K_ref, dequantize_row_q5_K},
                            {DType::kQ6_K, quantize_row_q6_K_ref, dequantize_row_q6_K}};
  const int64_t n = 256 * 4096;
  std::mt19937 rng(1);
  int failures = 0;
  for (int dist = 0; dist < 5; ++dist) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = Sample(dist, rng);
    for (const GgmlPair& p : pairs) {
      const auto bytes = static_cast<size_t>(RowBytes(p.type, n)), block = static_cast<size_t>(Traits(p.type).block_bytes);
      std::vector<uint8_t> ours(bytes), theirs(bytes);
      QuantizeRow(p.type, x.data(), ours.data(), n);
      p.quantize(x.data(), theirs.data(), n);
      size_t blocks_differ = 0, floats_differ = 0;
      for (size_t k = 0; k < bytes / block; ++k)
        blocks_differ += std::memcmp(ours.data() + k * block, theirs.data() + k * block, block) != 0;
      std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
      DequantizeRow(p.type, theirs.data(), a.data(), n);
      p.dequantize(theirs.data(), b.data(), n);
      for (size_t i = 0; i < a.size(); ++i) floats_differ += std::memcmp(&a[i], &b[i], 4) != 0;
      std::printf("distribution %d %s: super-blocks differing from ggml %zu of %zu, dequantized floats differing %zu of %lld\n",
                  dist, Name(p.type), blocks_differ, bytes / block, floats_differ, static_cast<long long>(n));
      failures += blocks_differ != 0 || floats_differ != 0;
    }
  }
  return failures == 0 ? 0 : 1;
}
