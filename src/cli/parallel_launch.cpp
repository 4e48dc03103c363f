#include "cli/parallel_launch.h"

#include "runtime/packed_weights.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "core/log.h"
#include "runtime/distributed_runner.h"
#include "runtime/model_runner.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/profiler.h"

namespace strata::cli {
namespace {

// This process's resident memory in MiB (VmRSS, or VmHWM: the peak), -1 where /proc does not say.
double ResidentMiB(const std::string& which) {
  std::ifstream status("/proc/self/status");
  for (std::string key; status >> key;) {
    if (key == which + ":") {
      double kb = -1;
      status >> kb;
      return kb / 1024;
    }
    status.ignore(1 << 16, '\n');
  }
  return -1;
}

}  // namespace

std::unique_ptr<ParallelLaunch> ParallelLaunch::Start(const CompileFlags& flags) {
  auto launch = std::unique_ptr<ParallelLaunch>(new ParallelLaunch());
  if (!LaunchedByMpi() && flags.pp > 1) {
    spdlog::error("--pp {} runs one process per stage: start it with mpirun -np {}", flags.pp, flags.tp * flags.pp);
    return nullptr;
  }
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
  if (s.size() != flags.tp * flags.pp) {  // every rank sees the same mismatch and stops
    spdlog::error("rank {}: mpirun started {} processes but --tp {} x --pp {} is {}: start one process per rank", s.rank(),
                  s.size(), flags.tp, flags.pp, flags.tp * flags.pp);
    return nullptr;
  }
  if (Status st = launch->Connect(flags); !st.ok()) {
    spdlog::error("rank {}: {}", s.rank(), st.message());
    return nullptr;
  }
  spdlog::info("rank {} of {} on {} (pid {}): pipeline stage {} of {}, tensor-parallel rank {} of {}", s.rank(), s.size(),
               s.host(), ::getpid(), s.rank() / flags.tp, flags.pp, s.rank() % flags.tp, flags.tp);
  return launch;
}

// The job's groups: all ranks (the step broadcast), each stage's tensor-parallel ranks (the plan's collectives,
// global rank = stage * tp + tensor-parallel rank), and point-to-point links between stages.
Status ParallelLaunch::Connect(const CompileFlags& flags) {
  const int rank = mpi_->rank(), stage = rank / flags.tp;
  STRATA_ASSIGN_OR_RETURN(world_, mpi_->Group(0, rank, flags.collective_timeout_s));
  STRATA_ASSIGN_OR_RETURN(stage_group_, mpi_->Group(stage, rank % flags.tp, flags.collective_timeout_s));
  STRATA_ASSIGN_OR_RETURN(p2p_, mpi_->Links(flags.collective_timeout_s));
  links_ = {.world = world_.get(), .group = flags.tp > 1 ? stage_group_.get() : nullptr,
            .p2p = flags.pp > 1 ? p2p_.get() : nullptr, .world_rank = rank, .micro_batches = flags.micro_batches,
            .overlap = flags.overlap};
  return Status::Ok();
}

ParallelLaunch::~ParallelLaunch() {
  p2p_.reset();  // their communicators are freed before MPI is finalised
  stage_group_.reset();
  world_.reset();
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

// The rank's executor holds its own copies (sliced, repacked) of what it uses: the file pages it read to make
// them go back, and its resident memory becomes its share of the model.
void ParallelLaunch::ReleaseWeightPages(const CompiledModel& compiled) const {
  const double before = ResidentMiB("VmRSS");
  compiled.model->ReleaseWeightPages();
  spdlog::info("rank {}: weights ready, resident memory {:.1f} MiB ({:.1f} MiB before giving back the file pages)",
               mpi_->rank(), ResidentMiB("VmRSS"), before);
}

int ParallelLaunch::RunWorker(const CompiledModel& compiled, ThreadPool& pool) {
  const int rank = mpi_->rank();
  links_.packed = [this, &compiled] { ReleaseWeightPages(compiled); };
  if (Status st = strata::RunWorker(compiled.plan(), pool, links_); !st.ok()) {
    spdlog::error("rank {}: {}", rank, st.message());
    return 1;
  }
  return 0;
}

StepExecutorFactory ParallelLaunch::Factory(const CompiledModel& compiled, ThreadPool& pool) {
  if (!distributed()) return ModelRunner::Factory(compiled.ranks, pool);
  links_.packed = [this, &compiled] { ReleaseWeightPages(compiled); };
  return DistributedRunner::Factory(compiled.plan(), pool, links_, compiled.model->config().n_vocab);
}

int64_t ParallelLaunch::KvBytesPerToken(const CompiledModel& compiled) const {
  // Under MPI this process holds one rank's share; the ranks split the KV heads and the stages the layers
  // (about) evenly.
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
  // What each rank holds: about its share of the weights plus the replicated parts and its KV share.
  if (distributed())
    spdlog::info("rank {}: resident memory {:.1f} MiB (peak {:.1f} MiB)", mpi_->rank(), ResidentMiB("VmRSS"),
                 ResidentMiB("VmHWM"));
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
    mpi_->Abort(exit_code);
  }
  return exit_code;
}

int RunAsRank(const std::string& model, const CompileFlags& flags, int threads,
              const std::function<int(ParallelLaunch&, const CompiledModel&, ThreadPool&)>& main) {
  auto launch = ParallelLaunch::Start(flags);
  if (!launch) return 1;
  SetReleasePackedSources(true);  // a command holds its model once: packed weights replace the file's bytes
  CompiledModel compiled;
  if (!launch->LoadAndCompile(model, flags, compiled)) return launch->Finish(1);
  launch->StartTrace(flags.trace);
  ThreadPool pool(launch->Threads(threads));
  if (launch->worker()) return launch->Finish(launch->RunWorker(compiled, pool));
  return launch->Finish(main(*launch, compiled, pool));
}

}  // namespace strata::cli
