// The collective operations tensor-parallel ranks run together. InProcessCollectives joins N ranks that are
// threads of one process; MpiCollectives (mpi_collectives.h) joins processes on one or several hosts. A call
// fails (kUnavailable) when a peer is gone or does not answer in time; after that the group is unusable.
#pragma once

#include <barrier>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int size() const = 0;
  // Every rank calls it with its `in` (n floats); each gets the elementwise sum, summed in rank order so
  // all ranks hold bit-identical results (and the same bits whichever backend joins them).
  [[nodiscard]] virtual Status AllReduceSum(int rank, const float* in, float* out, int64_t n) = 0;
  // in: [rows, width] per rank; out: [rows, width * size], rank r's columns at r * width.
  [[nodiscard]] virtual Status AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) = 0;
  // Rank `root`'s `bytes` bytes at `data` are copied to every other rank's `data`. With `idle` a non-root
  // rank waits without a time limit (for work that may be long in coming) instead of failing.
  [[nodiscard]] virtual Status Broadcast(int rank, void* data, int64_t bytes, int root, bool idle = false) = 0;
  // Every rank's `mine` arrives at `root` in `all` (by rank; left untouched elsewhere): a rare, bulky message
  // such as a rank's trace.
  [[nodiscard]] virtual Status Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) = 0;

  // Non-blocking all-reduce and all-gather: Start posts the operation and returns a handle; Finish(handle)
  // waits for it and writes `out`. Until then `in` must stay unchanged and `out` unread. Several may be in
  // flight, posted in the same order on every rank (a rank's work between Start and Finish overlaps the
  // transfer). Progress() lets a backend that only moves data inside its own calls advance what is in flight.
  // The defaults run the blocking operation in Start (the handle is then already finished): backends without
  // an asynchronous path, such as InProcessCollectives, are correct but overlap nothing.
  using Handle = int64_t;
  static constexpr Handle kFinished = -1;
  [[nodiscard]] virtual Result<Handle> StartAllReduceSum(int rank, const float* in, float* out, int64_t n);
  [[nodiscard]] virtual Result<Handle> StartAllGather(int rank, const float* in, int64_t rows, int64_t width, float* out);
  [[nodiscard]] virtual Status Finish(Handle h);
  virtual void Progress() {}
};

// Sums `parts` (size() buffers of n floats each) in rank order into out: the one reduction order every
// backend uses.
void SumInRankOrder(const float* const* parts, int count, int64_t n, float* out);

class InProcessCollectives final : public Collectives {
 public:
  explicit InProcessCollectives(int size);
  int size() const override { return size_; }
  Status AllReduceSum(int rank, const float* in, float* out, int64_t n) override;
  Status AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override;
  Status Broadcast(int rank, void* data, int64_t bytes, int root, bool idle = false) override;
  Status Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) override;

 private:
  int size_;
  std::vector<const std::string*> strings_;
  std::vector<const float*> inputs_;  // one slot per rank, published before the first barrier
  const void* root_data_ = nullptr;
  std::barrier<> sync_;
};

}  // namespace strata
