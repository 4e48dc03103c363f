// Loading and compiling a model from the command line: shows progress on stderr and reports errors in one
// line. The compile flags (--passes, --tp, --device-lacks, --trace) are shared by run, serve, bench and plan.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compiler/ir.h"
#include "compiler/pass_manager.h"
#include "model/model.h"

namespace strata::cli {

// Loads `path` (a GGUF file or a Hugging Face folder) with a progress display; on failure logs the error and
// returns null.
std::unique_ptr<Model> LoadModelWithProgress(const std::string& path, const ModelLoadOptions& load = {});

struct CompileFlags {
  std::string passes = "default";
  int tp = 1;
  int pp = 1;                // pipeline stages (the in-process runner refuses plans of more than one)
  std::string device_lacks;  // comma-separated op labels
  std::string trace;         // Chrome trace JSON output file, "" = off
  double collective_timeout_s = 60;
  int micro_batches = 0;             // under mpirun with --pp: micro-batches per step (0: one per stage)  // under mpirun: how long a rank waits for the others within a step
  bool overlap = false;              // under mpirun with --tp: overlap each half's all-reduces with the other half's work
  std::string kv_dtype = "f16";      // the KV cache's type: f32, f16 (llama.cpp's default too) or q8_0
};
void AddCompileFlags(CLI::App* cmd, CompileFlags& flags);
// The options the flags name; on a bad flag logs why and returns false.
bool ToCompileOptions(const CompileFlags& flags, ir::CompileOptions& out);

// A loaded model and its compiled plans, one per tensor-parallel rank (the plans view the model's weights, so
// they travel together).
struct CompiledModel {
  std::unique_ptr<Model> model;
  std::vector<ir::Plan> ranks;
  const ir::Plan& plan() const { return ranks[0]; }
};

// Loads `path` and compiles it; on failure logs the error and returns false. `observe` sees every pass.
// `only_rank` >= 0 compiles just that rank's plan (then out.ranks holds only it).
bool LoadAndCompile(const std::string& path, const CompileFlags& flags, CompiledModel& out,
                    const ir::PassObserver& observe = {}, const ModelLoadOptions& load = {}, int only_rank = -1);

// Starts the profiler when --trace was given and writes the trace when it goes out of scope.
class TraceSession {
 public:
  explicit TraceSession(const std::string& path);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

 private:
  bool on_;
};

}  // namespace strata::cli
