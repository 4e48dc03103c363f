#include "runtime/mpi/mpi_point_to_point.h"

#include "runtime/mpi/mpi_collectives.h"

#include <climits>
#include <string>

namespace strata {

MpiPointToPoint::MpiPointToPoint(MPI_Comm comm, double timeout_s) : comm_(comm), timeout_s_(timeout_s) {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
}

MpiPointToPoint::~MpiPointToPoint() {
  if (broken_.ok()) MPI_Comm_free(&comm_);
}

Status MpiPointToPoint::Wait(MPI_Request& req, const char* what) {
  if (Status st = PollRequest(req, what, timeout_s_, false); !st.ok())
    broken_ = Status::Unavailable(st.message() + ": a rank died or the link to it broke; the job cannot go on");
  return broken_;
}

Status MpiPointToPoint::Send(int, int dest, const float* data, int64_t n, int tag) {
  if (!broken_.ok()) return broken_;
  if (n > INT_MAX) return Status::OutOfRange("a message of " + std::to_string(n) + " floats is too large for MPI");
  MPI_Request req;
  if (MPI_Isend(data, static_cast<int>(n), MPI_FLOAT, dest, tag, comm_, &req) != MPI_SUCCESS)
    return broken_ = Status::Unavailable("send to rank " + std::to_string(dest) + " failed");
  sends_.push_back(req);
  return Status::Ok();
}

Status MpiPointToPoint::Recv(int, int src, float* data, int64_t n, int tag) {
  if (!broken_.ok()) return broken_;
  if (n > INT_MAX) return Status::OutOfRange("a message of " + std::to_string(n) + " floats is too large for MPI");
  MPI_Request req;
  if (MPI_Irecv(data, static_cast<int>(n), MPI_FLOAT, src, tag, comm_, &req) != MPI_SUCCESS)
    return broken_ = Status::Unavailable("receive from rank " + std::to_string(src) + " failed");
  return Wait(req, ("receive from rank " + std::to_string(src)).c_str());
}

Status MpiPointToPoint::WaitSends(int) {
  for (MPI_Request& req : sends_) STRATA_RETURN_IF_ERROR(Wait(req, "send"));
  sends_.clear();
  return Status::Ok();
}

}  // namespace strata
