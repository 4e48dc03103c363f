#include "cli/parallel_launch.h"

#include <unistd.h>

#include <thread>

#include "core/log.h"
#include "runtime/distributed_runner.h"
#include "runtime/model_runner.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/profiler.h"

namespace strata::cli {

std::unique_ptr<ParallelLaunch> ParallelLaunch::Start(const CompileFlags& flags) {
  auto launch = std::unique_ptr<ParallelLaunch>(new ParallelLaunch());
  launch->tp_ = flags.tp;
  if (!LaunchedByMpi()) return launch;
  auto mpi = MpiSession::Init();
  if (!mpi.ok()) {
    spdlog::error("{}", mpi.status().message());
    return nullptr;
  }
  launch->mpi_ = std::move(mpi).value();
  const MpiSession& s = *launch->mpi_;
  if (s.size() == 1) {  // `mpirun -np 1`: nothing to distribute
    launch->mpi_.reset();
    return launch;
  }
  if (s.size() != flags.tp) {
    spdlog::error("rank {}: mpirun started {} processes but --tp is {}: start one process per rank", s.rank(), s.size(), flags.tp);
    return nullptr;  // every rank sees the same mismatch and stops
  }
  auto world = launch->mpi_->Group(0, s.rank(), flags.collective_timeout_s);
  if (!world.ok()) {
    spdlog::error("rank {}: {}", s.rank(), world.status().message());
    return nullptr;
  }
  launch->world_ = std::move(world).value();
  spdlog::info("rank {} of {} on {} (pid {}): tensor-parallel rank {}", s.rank(), s.size(), s.host(), ::getpid(), s.rank());
  return launch;
}

ParallelLaunch::~ParallelLaunch() {
  world_.reset();  // its communicator is freed before MPI is finalised
}

bool ParallelLaunch::LoadAndCompile(const std::string& path, const CompileFlags& flags, CompiledModel& out) {
  if (!distributed()) return cli::LoadAndCompile(path, flags, out);
  return cli::LoadAndCompile(path, flags, out, {}, {.touch_weights = false}, mpi_->rank());
}

int ParallelLaunch::Threads(int threads) const {
  if (threads > 0) return threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return distributed() ? std::max(1, cores / LocalRanks()) : cores;
}

int ParallelLaunch::RunWorker(const CompiledModel& compiled, ThreadPool& pool) {
  const int rank = mpi_->rank();
  if (Status st = strata::RunWorker(compiled.plan(), pool, *world_, world_.get(), rank); !st.ok()) {
    spdlog::error("rank {}: {}", rank, st.message());
    return 1;
  }
  return 0;
}

StepExecutorFactory ParallelLaunch::Factory(const CompiledModel& compiled, ThreadPool& pool) {
  if (!distributed()) return ModelRunner::Factory(compiled.ranks, pool);
  return DistributedRunner::Factory(compiled.plan(), pool, *world_, world_.get());
}

int64_t ParallelLaunch::KvBytesPerToken(const CompiledModel& compiled) const {
  // Under MPI this process holds one rank's share; the ranks split the KV heads evenly.
  const int64_t mine = ModelRunner::KvBytesPerToken(compiled.ranks);
  return distributed() ? mine * mpi_->size() : mine;
}

void ParallelLaunch::StartTrace(const std::string& path) {
  if (path.empty()) return;
  Profiler::Start(path);
  trace_path_ = path;
  tracing_ = true;
}

int ParallelLaunch::Finish(int exit_code) {
  if (tracing_ && (!distributed() || exit_code != 0)) {
    if (Status st = Profiler::Stop(); !st.ok()) spdlog::error("{}", st.message());
  } else if (tracing_) {  // every rank's events to rank 0, which writes one timeline
    std::vector<std::string> all;
    const std::string mine = Profiler::StopToEvents();
    if (Status st = world_->Gather(mpi_->rank(), mine, all, 0); !st.ok()) {
      spdlog::error("rank {}: gathering the trace: {}", mpi_->rank(), st.message());
    } else if (mpi_->rank() == 0) {
      if (Status w = Profiler::WriteTrace(trace_path_, all); !w.ok()) spdlog::error("{}", w.message());
    }
  }
  tracing_ = false;
  if (distributed() && exit_code != 0) {
    spdlog::error("rank {}: ending the job", mpi_->rank());
    world_.reset();
    mpi_->Abort(exit_code);
  }
  return exit_code;
}

}  // namespace strata::cli
