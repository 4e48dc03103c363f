#include "runtime/collectives.h"

#include <cstring>

namespace strata {

InProcessCollectives::InProcessCollectives(int size)
    : size_(size), inputs_(static_cast<size_t>(size), nullptr), sync_(size) {}

// Each rank publishes its input, waits until all have, reads them all, then waits again so no rank reuses its
// input buffer (the next op's output may alias it) while another is still reading.
void InProcessCollectives::AllReduceSum(int rank, const float* in, float* out, int64_t n) {
  inputs_[static_cast<size_t>(rank)] = in;
  sync_.arrive_and_wait();
  std::memcpy(out, inputs_[0], static_cast<size_t>(n) * sizeof(float));
  for (size_t r = 1; r < inputs_.size(); ++r)
    for (int64_t i = 0; i < n; ++i) out[i] += inputs_[r][i];
  sync_.arrive_and_wait();
}

void InProcessCollectives::AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) {
  inputs_[static_cast<size_t>(rank)] = in;
  sync_.arrive_and_wait();
  const int64_t out_width = width * size_;
  for (int64_t row = 0; row < rows; ++row)
    for (size_t r = 0; r < inputs_.size(); ++r)
      std::memcpy(out + row * out_width + static_cast<int64_t>(r) * width, inputs_[r] + row * width,
                  static_cast<size_t>(width) * sizeof(float));
  sync_.arrive_and_wait();
}

}  // namespace strata
