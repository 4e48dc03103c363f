#include "runtime/mpi/mpi_session.h"

#include <mpi.h>

#include <cstdlib>

#include "runtime/mpi/mpi_collectives.h"
#include "runtime/mpi/mpi_point_to_point.h"

namespace strata {

namespace {
bool g_aborted = false;  // MPI_Finalize must not run after MPI_Abort
}  // namespace

Result<std::unique_ptr<MpiSession>> MpiSession::Init() {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
    return Status::Unavailable("MPI_Init_thread failed");
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    return Status::Unsupported("this MPI library cannot be called from more than the main thread");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiSession> s(new MpiSession());
  MPI_Comm_rank(MPI_COMM_WORLD, &s->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &s->size_);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  s->host_.assign(name, static_cast<size_t>(len));
  return s;
}

MpiSession::~MpiSession() {
  if (!g_aborted) MPI_Finalize();
}

Result<std::unique_ptr<Collectives>> MpiSession::Group(int color, int key, double timeout_s) {
  MPI_Comm comm;
  if (MPI_Comm_split(MPI_COMM_WORLD, color, key, &comm) != MPI_SUCCESS)
    return Status::Unavailable("MPI_Comm_split failed");
  return std::unique_ptr<Collectives>(std::make_unique<MpiCollectives>(comm, timeout_s));
}

Result<std::unique_ptr<PointToPoint>> MpiSession::Links(double timeout_s) {
  MPI_Comm comm;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS) return Status::Unavailable("MPI_Comm_dup failed");
  return std::unique_ptr<PointToPoint>(std::make_unique<MpiPointToPoint>(comm, timeout_s));
}

void MpiSession::Abort(int code) {
  g_aborted = true;
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
}

}  // namespace strata
