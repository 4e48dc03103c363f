#include "runtime/point_to_point.h"

#include <chrono>
#include <cstring>
#include <string>

namespace strata {

Status InProcessPointToPoint::Send(int rank, int dest, const float* data, int64_t n, int tag) {
  {
    std::lock_guard lock(mu_);
    mail_[{rank, dest, tag}].emplace_back(data, data + n);
  }
  cv_.notify_all();
  return Status::Ok();
}

Status InProcessPointToPoint::Recv(int rank, int src, float* data, int64_t n, int tag) {
  std::unique_lock lock(mu_);
  auto& queue = mail_[{src, rank, tag}];
  if (!cv_.wait_for(lock, std::chrono::duration<double>(timeout_s_), [&] { return !queue.empty(); }))
    return Status::Unavailable("rank " + std::to_string(rank) + ": nothing from rank " + std::to_string(src) +
                               " within the timeout");
  std::vector<float> msg = std::move(queue.front());
  queue.erase(queue.begin());
  if (static_cast<int64_t>(msg.size()) != n)
    return Status::Internal("rank " + std::to_string(rank) + ": expected " + std::to_string(n) + " floats from rank " +
                            std::to_string(src) + ", got " + std::to_string(msg.size()));
  std::memcpy(data, msg.data(), msg.size() * sizeof(float));
  return Status::Ok();
}

}  // namespace strata
