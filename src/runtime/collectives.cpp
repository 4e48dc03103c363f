#include "runtime/collectives.h"

#include <cstring>
#include <string>

namespace strata {

// `out` must not alias any part: the parts are read while it is written.
void SumInRankOrder(const float* const* parts, int count, int64_t n, float* out) {
  std::memcpy(out, parts[0], static_cast<size_t>(n) * sizeof(float));
  for (int r = 1; r < count; ++r)
    for (int64_t i = 0; i < n; ++i) out[i] += parts[r][i];
}

Result<Collectives::Handle> Collectives::StartAllReduceSum(int rank, const float* in, float* out, int64_t n) {
  STRATA_RETURN_IF_ERROR(AllReduceSum(rank, in, out, n));
  return kFinished;
}

Result<Collectives::Handle> Collectives::StartAllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) {
  STRATA_RETURN_IF_ERROR(AllGather(rank, in, rows, width, out));
  return kFinished;
}

Status Collectives::Finish(Handle h) {
  return h == kFinished ? Status::Ok() : Status::InvalidArgument("unknown collective handle " + std::to_string(h));
}

InProcessCollectives::InProcessCollectives(int size)
    : size_(size), strings_(static_cast<size_t>(size), nullptr), inputs_(static_cast<size_t>(size), nullptr), sync_(size) {}

// Each rank publishes its input, waits until all have, reads them all, then waits again so no rank reuses its
// input buffer (the next op's output may alias it) while another is still reading. Threads of one process
// cannot lose a peer, so these never fail.
Status InProcessCollectives::AllReduceSum(int rank, const float* in, float* out, int64_t n) {
  inputs_[static_cast<size_t>(rank)] = in;
  sync_.arrive_and_wait();
  SumInRankOrder(inputs_.data(), size_, n, out);
  sync_.arrive_and_wait();
  return Status::Ok();
}

Status InProcessCollectives::AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) {
  inputs_[static_cast<size_t>(rank)] = in;
  sync_.arrive_and_wait();
  const int64_t out_width = width * size_;
  for (int64_t row = 0; row < rows; ++row)
    for (size_t r = 0; r < inputs_.size(); ++r)
      std::memcpy(out + row * out_width + static_cast<int64_t>(r) * width, inputs_[r] + row * width,
                  static_cast<size_t>(width) * sizeof(float));
  sync_.arrive_and_wait();
  return Status::Ok();
}

Status InProcessCollectives::Broadcast(int rank, void* data, int64_t bytes, int root, bool) {
  if (rank == root) root_data_ = data;
  sync_.arrive_and_wait();
  if (rank != root) std::memcpy(data, root_data_, static_cast<size_t>(bytes));
  sync_.arrive_and_wait();
  return Status::Ok();
}

Status InProcessCollectives::Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) {
  strings_[static_cast<size_t>(rank)] = &mine;
  sync_.arrive_and_wait();
  if (rank == root) {
    all.clear();
    for (const std::string* s : strings_) all.push_back(*s);
  }
  sync_.arrive_and_wait();
  return Status::Ok();
}

}  // namespace strata
