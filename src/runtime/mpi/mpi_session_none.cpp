// MpiSession when Strata is built without MPI: a process started by mpirun is told so clearly.
#include <cstdlib>

#include "runtime/mpi/mpi_session.h"

namespace strata {

Result<std::unique_ptr<MpiSession>> MpiSession::Init() {
  return Status::Unsupported("this strata was built without MPI (install libopenmpi-dev and rebuild)");
}

MpiSession::~MpiSession() = default;

Result<std::unique_ptr<Collectives>> MpiSession::Group(int, int, double) {
  return Status::Unsupported("built without MPI");
}

Result<std::unique_ptr<PointToPoint>> MpiSession::Links(double) { return Status::Unsupported("built without MPI"); }

void MpiSession::Abort(int code) { std::_Exit(code); }

}  // namespace strata
