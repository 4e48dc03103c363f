// This process's place in an MPI job (OpenMPI's `mpirun -np N strata …`, on one host or several from a
// hostfile): initialises MPI for the process's life and hands out collective groups over the job's ranks.
// Built without MPI, Init() fails with a clear error and LaunchedByMpi() still tells a launched process.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "runtime/collectives.h"
#include "runtime/point_to_point.h"

namespace strata {

// Whether an MPI launcher started this process (its environment says so); touches no MPI state.
bool LaunchedByMpi();

// The processes of the launch on this host (OMPI_COMM_WORLD_LOCAL_SIZE), 1 if unknown: compute threads are
// divided among them.
int LocalRanks();

class MpiSession {
 public:
  // MPI_Init_thread (serialized: the engine thread, not only main, makes MPI calls). Once per process.
  [[nodiscard]] static Result<std::unique_ptr<MpiSession>> Init();
  ~MpiSession();  // MPI_Finalize, unless the job was aborted
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }

  // Collectives over the ranks whose `color` equals this rank's, ordered by `key` (MPI_Comm_split); every
  // rank must call it, in the same order. A wait longer than `timeout_s` for the others fails the call.
  [[nodiscard]] Result<std::unique_ptr<Collectives>> Group(int color, int key, double timeout_s);
  // Point-to-point messages between any two ranks of the job, on a communicator of their own.
  [[nodiscard]] Result<std::unique_ptr<PointToPoint>> Links(double timeout_s);
  // Ends every rank of the job now (after a peer was lost the survivors cannot finalise together).
  [[noreturn]] void Abort(int code);

 private:
  MpiSession() = default;
  int rank_ = 0, size_ = 1;
  std::string host_;
};

}  // namespace strata
