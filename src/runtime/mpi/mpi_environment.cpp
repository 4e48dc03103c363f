#include "runtime/mpi/mpi_session.h"

#include <cstdlib>

namespace strata {

// Open MPI sets OMPI_*; PMIx and PMI launchers (srun, hydra) set PMIX_RANK or PMI_RANK.
bool LaunchedByMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
         std::getenv("PMI_RANK") != nullptr;
}

int LocalRanks() {
  const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int n = v ? std::atoi(v) : 1;
  return n >= 1 && n <= 4096 ? n : 1;
}

}  // namespace strata
