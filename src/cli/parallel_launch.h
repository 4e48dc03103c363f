// How a `strata run|serve|bench` process takes part in running the model. Started alone it runs every
// tensor-parallel rank itself (threads). Started by `mpirun -np N` it is one rank of N processes (on this
// host or several): rank 0 does what the command does (HTTP, tokenizing, scheduling, sampling) over a
// DistributedRunner, and every other rank loads and compiles only its own shard and serves rank 0's steps
// until told to stop.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cli/model_loading.h"
#include "core/thread_pool.h"
#include "runtime/distributed_runner.h"
#include "runtime/mpi/mpi_session.h"
#include "runtime/step_executor.h"

namespace strata::cli {

class ParallelLaunch {
 public:
  // Joins the MPI job when launched by mpirun (checking that --tp x --pp covers its ranks); null after logging why
  // when that fails.
  static std::unique_ptr<ParallelLaunch> Start(const CompileFlags& flags);
  ~ParallelLaunch();

  bool distributed() const { return mpi_ != nullptr; }
  bool worker() const { return distributed() && mpi_->rank() != 0; }
  int processes() const { return distributed() ? mpi_->size() : 1; }
  // Loads and compiles what this process runs: every rank's plan alone, only its own under MPI (without
  // reading the weights it does not use).
  bool LoadAndCompile(const std::string& path, const CompileFlags& flags, CompiledModel& out);
  // Compute threads: `threads`, or when 0 this host's cores shared among the job's processes on it.
  int Threads(int threads) const;
  // A worker's whole life: serves rank 0's steps; returns the exit code.
  int RunWorker(const CompiledModel& compiled, ThreadPool& pool);
  // What rank 0 (or a process alone) runs its steps on, and the KV bytes a token takes over all ranks.
  StepExecutorFactory Factory(const CompiledModel& compiled, ThreadPool& pool);
  int64_t KvBytesPerToken(const CompiledModel& compiled) const;
  // Starts the profiler when `path` is not empty; Finish writes the trace (rank 0 merges every rank's).
  void StartTrace(const std::string& path);
  // Ends the command: writes the trace, and aborts a distributed job whose command failed (its other ranks may
  // be waiting in a collective that will never complete); returns `exit_code`. Every rank calls it.
  int Finish(int exit_code);

 private:
  Status Connect(const CompileFlags& flags);
  void ReleaseWeightPages(const CompiledModel& compiled) const;

  std::unique_ptr<MpiSession> mpi_;
  std::unique_ptr<Collectives> world_, stage_group_;
  std::unique_ptr<PointToPoint> p2p_;
  RankLinks links_;
  bool tracing_ = false;
  std::string trace_path_;
};

// A command's life in either role: joins the job, loads and compiles, starts the trace and the compute pool; a
// worker rank then serves rank 0's steps, while rank 0 (or a process alone) runs `main`. Returns the exit code.
int RunAsRank(const std::string& model, const CompileFlags& flags, int threads,
              const std::function<int(ParallelLaunch&, const CompiledModel&, ThreadPool&)>& main);

}  // namespace strata::cli
