#include "runtime/mpi/mpi_collectives.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <thread>

namespace strata {
namespace {

std::string MpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

}  // namespace

MpiCollectives::MpiCollectives(MPI_Comm comm, double timeout_s) : comm_(comm), timeout_s_(timeout_s) {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCollectives::~MpiCollectives() {
  if (broken_.ok() && comm_ != MPI_COMM_WORLD) MPI_Comm_free(&comm_);
}

Status MpiCollectives::Broken(const std::string& why) {
  if (broken_.ok())
    broken_ = Status::Unavailable("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": " + why +
                                  ": a rank died or the link to it broke; the job cannot go on");
  return broken_;
}

// Spins briefly (a collective inside a step usually completes within microseconds of the last rank arriving),
// then sleeps between polls so a waiting rank leaves its core to the compute threads.
Status MpiCollectives::Wait(MPI_Request& req, const char* what, bool idle) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (const int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS)
      return Broken(std::string(what) + " failed: " + MpiError(rc));
    if (done) return Status::Ok();
    if (polls < 2000) continue;
    if (!idle && std::chrono::duration<double>(Clock::now() - start).count() > timeout_s_)
      return Broken(std::string(what) + ": no answer within " + std::to_string(static_cast<int>(timeout_s_)) + " s");
    std::this_thread::sleep_for(std::chrono::microseconds(idle ? 500 : 20));
  }
}

Status MpiCollectives::Gather(const float* in, int64_t n, const char* what) {
  if (!broken_.ok()) return broken_;
  if (n > INT_MAX) return Status::OutOfRange(std::string(what) + " of " + std::to_string(n) + " floats is too large for one MPI call");
  gathered_.resize(static_cast<size_t>(n) * static_cast<size_t>(size_));
  MPI_Request req;
  if (const int rc = MPI_Iallgather(in, static_cast<int>(n), MPI_FLOAT, gathered_.data(), static_cast<int>(n), MPI_FLOAT,
                                    comm_, &req);
      rc != MPI_SUCCESS)
    return Broken(std::string(what) + " failed: " + MpiError(rc));
  return Wait(req, what, false);
}

Status MpiCollectives::AllReduceSum(int, const float* in, float* out, int64_t n) {
  STRATA_RETURN_IF_ERROR(Gather(in, n, "all-reduce"));
  std::vector<const float*> parts(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r) parts[static_cast<size_t>(r)] = gathered_.data() + static_cast<int64_t>(r) * n;
  SumInRankOrder(parts.data(), size_, n, out);
  return Status::Ok();
}

Status MpiCollectives::AllGather(int, const float* in, int64_t rows, int64_t width, float* out) {
  STRATA_RETURN_IF_ERROR(Gather(in, rows * width, "all-gather"));
  const int64_t out_width = width * size_;
  for (int r = 0; r < size_; ++r)
    for (int64_t row = 0; row < rows; ++row)
      std::memcpy(out + row * out_width + r * width, gathered_.data() + (r * rows + row) * width,
                  static_cast<size_t>(width) * sizeof(float));
  return Status::Ok();
}

Status MpiCollectives::Broadcast(int, void* data, int64_t bytes, int root, bool idle) {
  if (!broken_.ok()) return broken_;
  if (bytes > INT_MAX) return Status::OutOfRange("broadcast of " + std::to_string(bytes) + " bytes is too large for one MPI call");
  MPI_Request req;
  if (const int rc = MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_, &req); rc != MPI_SUCCESS)
    return Broken("broadcast failed: " + MpiError(rc));
  return Wait(req, "broadcast", idle);
}

// Sizes first, then the bytes (MPI_Igatherv), each under the deadline.
Status MpiCollectives::Gather(int, const std::string& mine, std::vector<std::string>& all, int root) {
  if (!broken_.ok()) return broken_;
  if (mine.size() > INT_MAX) return Status::OutOfRange("gather of " + std::to_string(mine.size()) + " bytes is too large");
  const int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  MPI_Request req;
  if (const int rc = MPI_Igather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, comm_, &req); rc != MPI_SUCCESS)
    return Broken("gather failed: " + MpiError(rc));
  STRATA_RETURN_IF_ERROR(Wait(req, "gather", false));
  int64_t total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[static_cast<size_t>(r)] = static_cast<int>(std::min<int64_t>(total, INT_MAX));
    total += lens[static_cast<size_t>(r)];
  }
  if (rank_ == root && total > INT_MAX) return Status::OutOfRange("gathered messages exceed 2 GiB");
  std::string bytes(rank_ == root ? static_cast<size_t>(total) : 0, '\0');
  if (const int rc = MPI_Igatherv(mine.data(), len, MPI_BYTE, bytes.data(), lens.data(), offsets.data(), MPI_BYTE,
                                  root, comm_, &req);
      rc != MPI_SUCCESS)
    return Broken("gather failed: " + MpiError(rc));
  STRATA_RETURN_IF_ERROR(Wait(req, "gather", false));
  if (rank_ != root) return Status::Ok();
  all.clear();
  for (int r = 0; r < size_; ++r)
    all.push_back(bytes.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]), static_cast<size_t>(lens[static_cast<size_t>(r)])));
  return Status::Ok();
}

}  // namespace strata
