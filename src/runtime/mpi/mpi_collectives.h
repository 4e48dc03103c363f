// Collectives between processes over MPI. Every operation is a non-blocking MPI call polled to completion
// under a deadline: a rank that died or a link that broke makes the call fail (kUnavailable) within the
// timeout instead of hanging, and the group is unusable after. The all-reduce gathers every rank's part and
// sums in rank order (SumInRankOrder), so all ranks hold the same bits as each other and as the in-process
// collectives; MPI's own reductions leave the order to the algorithm.
#pragma once

#include <mpi.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/collectives.h"

namespace strata {

// Polls `req` to completion: spins briefly (a collective inside a step usually completes within microseconds
// of the last rank arriving), then sleeps between tests so a waiting rank leaves its core to the compute
// threads. Unavailable ("WHAT failed: …" or "WHAT: no answer within N s") on an MPI error, or past
// `timeout_s` unless `idle`. Shared by every MPI wait, collective or point to point.
[[nodiscard]] Status PollRequest(MPI_Request& req, const std::string& what, double timeout_s, bool idle);

class MpiCollectives final : public Collectives {
 public:
  // Takes ownership of `comm` (freed on destruction); errors are returned, not fatal.
  MpiCollectives(MPI_Comm comm, double timeout_s);
  ~MpiCollectives() override;

  int size() const override { return size_; }
  int rank() const { return rank_; }
  Status AllReduceSum(int rank, const float* in, float* out, int64_t n) override;
  Status AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override;
  Status Broadcast(int rank, void* data, int64_t bytes, int root, bool idle = false) override;
  Status Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) override;
  // Each in-flight operation gathers into its own buffer; Progress tests them all (Open MPI moves a
  // non-blocking collective's later rounds only inside MPI calls).
  Result<Handle> StartAllReduceSum(int rank, const float* in, float* out, int64_t n) override;
  Result<Handle> StartAllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override;
  Status Finish(Handle h) override;
  void Progress() override;

 private:
  struct Request {
    MPI_Request req = MPI_REQUEST_NULL;
    bool done = false;
    const char* what = "";
    float* out = nullptr;
    int64_t rows = 0, width = 0;  // an all-reduce: rows 0, width n
    std::vector<float> gathered;  // every rank's part, by rank
  };
  // Polls `req` until done; after `timeout_s` (unless idle) the group is declared broken.
  Status Wait(MPI_Request& req, const char* what, bool idle);
  // Posts the gather of every rank's n floats into a new request's buffer.
  Result<Handle> Post(const float* in, int64_t n, const char* what, float* out, int64_t rows, int64_t width);
  Status Broken(const std::string& why);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  double timeout_s_;
  std::map<Handle, Request> inflight_;
  Handle next_ = 0;
  std::vector<std::vector<float>> spare_;  // buffers of finished requests, reused
  Status broken_;
};

}  // namespace strata
