#include "model/random_rows.h"

#include <cmath>
#include <numbers>

namespace strata {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void RandomRow(uint64_t seed, uint64_t tensor, uint64_t row, float* out, int64_t n, float std) {
  uint64_t state = seed ^ (tensor << 40) ^ row;
  state = SplitMix64(state);
  for (int64_t i = 0; i < n; i += 2) {
    const uint64_t bits = SplitMix64(state);
    const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * 0x1p-24f;  // (0, 1]
    const float u2 = static_cast<float>(bits & 0xffffff) * 0x1p-24f;
    const float r = std * std::sqrt(-2.0f * std::log(u1));
    const float a = 2.0f * std::numbers::pi_v<float> * u2;
    out[i] = r * std::cos(a);
    if (i + 1 < n) out[i + 1] = r * std::sin(a);
  }
}

}  // namespace strata
