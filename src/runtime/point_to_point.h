// Point-to-point messages between the ranks of a job: pipeline stages pass activations forward and the last
// stage passes logits back to rank 0. MpiPointToPoint (mpi/) sends between processes; InProcessPointToPoint
// between threads (tests, and a job of threads). A receive waits at most the timeout: a lost peer fails the
// step (kUnavailable) instead of hanging it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/status.h"

namespace strata {

class PointToPoint {
 public:
  virtual ~PointToPoint() = default;
  // Starts sending n floats to rank `dest`; `data` must stay valid until WaitSends().
  [[nodiscard]] virtual Status Send(int rank, int dest, const float* data, int64_t n, int tag) = 0;
  // Receives exactly n floats sent by rank `src` with `tag` (messages of one source and tag arrive in order).
  [[nodiscard]] virtual Status Recv(int rank, int src, float* data, int64_t n, int tag) = 0;
  // Waits until every send this rank started has left its buffer.
  [[nodiscard]] virtual Status WaitSends(int rank) = 0;
};

class InProcessPointToPoint final : public PointToPoint {
 public:
  explicit InProcessPointToPoint(double timeout_s = 60) : timeout_s_(timeout_s) {}
  Status Send(int rank, int dest, const float* data, int64_t n, int tag) override;  // copies at once
  Status Recv(int rank, int src, float* data, int64_t n, int tag) override;
  Status WaitSends(int) override { return Status::Ok(); }

 private:
  double timeout_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::tuple<int, int, int>, std::vector<std::vector<float>>> mail_;  // (src, dest, tag) -> queue
};

}  // namespace strata
