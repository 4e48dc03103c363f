// Compiled plans kept by key — a hash of the model (its tensor table and a sample of every tensor's bytes)
// plus the compile options — so a process that compiles the same model the same way again (a server
// reloading it, `strata bench` after `strata plan`, tests) gets the plans back without compiling.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/pass_manager.h"

namespace strata::ir {

// 16 hex digits identifying the model's content: its config, and the names, types, shapes and the first and
// last 64 bytes of every weight (cheap even for many-GB files, which are memory-mapped). Independent of the
// source format: a GGUF file and a Hugging Face folder of the same weights hash alike.
std::string ModelHash(const Model& model);
// "passes=fuse_rope,fuse_gated_ffn;tp=2;lacks=rope".
std::string OptionsKey(const CompileOptions& options);

class PlanCache {
 public:
  using Plans = std::shared_ptr<const std::vector<Plan>>;
  // The cached plans for this model and options, or compiles and keeps them. Their weight views hold the
  // model file's mapping alive, so they stay valid for another Model object of the same content.
  Result<Plans> GetOrCompile(const Model& model, const CompileOptions& options);
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  // The process-wide cache the CLI commands use.
  static PlanCache& Global();

 private:
  std::mutex mu_;
  std::map<std::string, Plans> plans_;
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace strata::ir
