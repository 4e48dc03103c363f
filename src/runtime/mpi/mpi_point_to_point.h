// Point-to-point messages between the processes of an MPI job (non-blocking sends, receives polled under a
// deadline), on a communicator of their own so they never match a collective's traffic.
#pragma once

#include <mpi.h>

#include <vector>

#include "runtime/point_to_point.h"

namespace strata {

class MpiPointToPoint final : public PointToPoint {
 public:
  MpiPointToPoint(MPI_Comm comm, double timeout_s);  // takes ownership of comm
  ~MpiPointToPoint() override;
  Status Send(int rank, int dest, const float* data, int64_t n, int tag) override;
  Status Recv(int rank, int src, float* data, int64_t n, int tag) override;
  Status WaitSends(int rank) override;

 private:
  Status Wait(MPI_Request& req, const char* what);
  MPI_Comm comm_;
  double timeout_s_;
  std::vector<MPI_Request> sends_;
  Status broken_;
};

}  // namespace strata
