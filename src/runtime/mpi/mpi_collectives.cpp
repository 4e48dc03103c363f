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

Status PollRequest(MPI_Request& req, const std::string& what, double timeout_s, bool idle) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (const int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS)
      return Status::Unavailable(what + " failed: " + MpiError(rc));
    if (done) return Status::Ok();
    if (polls < 2000) continue;
    if (!idle && std::chrono::duration<double>(Clock::now() - start).count() > timeout_s)
      return Status::Unavailable(what + ": no answer within " + std::to_string(static_cast<int>(timeout_s)) + " s");
    std::this_thread::sleep_for(std::chrono::microseconds(idle ? 500 : 20));
  }
}

Status MpiCollectives::Wait(MPI_Request& req, const char* what, bool idle) {
  if (Status st = PollRequest(req, what, timeout_s_, idle); !st.ok()) return Broken(st.message());
  return Status::Ok();
}

Result<Collectives::Handle> MpiCollectives::Post(const float* in, int64_t n, const char* what, float* out, int64_t rows,
                                                 int64_t width) {
  if (!broken_.ok()) return broken_;
  if (n > INT_MAX) return Status::OutOfRange(std::string(what) + " of " + std::to_string(n) + " floats is too large for one MPI call");
  Request r{.what = what, .out = out, .rows = rows, .width = width};
  if (!spare_.empty()) {
    r.gathered = std::move(spare_.back());
    spare_.pop_back();
  }
  r.gathered.resize(static_cast<size_t>(n) * static_cast<size_t>(size_));
  if (const int rc = MPI_Iallgather(in, static_cast<int>(n), MPI_FLOAT, r.gathered.data(), static_cast<int>(n), MPI_FLOAT,
                                    comm_, &r.req);
      rc != MPI_SUCCESS)
    return Broken(std::string(what) + " failed: " + MpiError(rc));
  const Handle h = next_++;
  inflight_.emplace(h, std::move(r));
  return h;
}

Result<Collectives::Handle> MpiCollectives::StartAllReduceSum(int, const float* in, float* out, int64_t n) {
  return Post(in, n, "all-reduce", out, 0, n);
}

Result<Collectives::Handle> MpiCollectives::StartAllGather(int, const float* in, int64_t rows, int64_t width, float* out) {
  return Post(in, rows * width, "all-gather", out, rows, width);
}

void MpiCollectives::Progress() {
  for (auto& entry : inflight_) {
    Request& r = entry.second;
    if (r.done || !broken_.ok()) continue;
    int done = 0;
    if (const int rc = MPI_Test(&r.req, &done, MPI_STATUS_IGNORE); rc != MPI_SUCCESS)
      Broken(std::string(r.what) + " failed: " + MpiError(rc));
    r.done = done != 0;
  }
}

// Sums in rank order (an all-reduce) or puts each rank's columns in place (an all-gather).
Status MpiCollectives::Finish(Handle h) {
  auto it = inflight_.find(h);
  if (it == inflight_.end()) return Status::InvalidArgument("unknown collective handle " + std::to_string(h));
  Request& r = it->second;
  Status st = broken_.ok() && !r.done ? Wait(r.req, r.what, false) : broken_;
  if (st.ok() && r.rows == 0) {
    std::vector<const float*> parts(static_cast<size_t>(size_));
    for (int q = 0; q < size_; ++q) parts[static_cast<size_t>(q)] = r.gathered.data() + static_cast<int64_t>(q) * r.width;
    SumInRankOrder(parts.data(), size_, r.width, r.out);
  } else if (st.ok()) {
    const int64_t out_width = r.width * size_;
    for (int q = 0; q < size_; ++q)
      for (int64_t row = 0; row < r.rows; ++row)
        std::memcpy(r.out + row * out_width + q * r.width, r.gathered.data() + (q * r.rows + row) * r.width,
                    static_cast<size_t>(r.width) * sizeof(float));
  }
  spare_.push_back(std::move(r.gathered));
  inflight_.erase(it);
  return st;
}

Status MpiCollectives::AllReduceSum(int rank, const float* in, float* out, int64_t n) {
  STRATA_ASSIGN_OR_RETURN(const Handle h, StartAllReduceSum(rank, in, out, n));
  return Finish(h);
}

Status MpiCollectives::AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) {
  STRATA_ASSIGN_OR_RETURN(const Handle h, StartAllGather(rank, in, rows, width, out));
  return Finish(h);
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
