// Executes one plan (one tensor-parallel rank's) on the CPU for one batch step: binds the symbolic dims (T
// rows, R logit rows, C context), lays every intermediate out in one arena by the static memory plan for that
// binding, and runs each node's kernel in order on the pool's threads, writing new keys/values into a paged
// KV cache and attending through each sequence's block table. This is the only forward pass.
#pragma once

#include <cstdint>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "compiler/ir.h"
#include "compiler/passes/memory_plan.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/kernels/rope.h"
#include "runtime/batch.h"
#include "runtime/collectives.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/profiler.h"

namespace strata {

// Logits of one step: `rows` rows of n_vocab floats, valid until the next step.
struct Logits {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t n_vocab = 0;
  const float* row(int64_t r) const { return data + r * n_vocab; }
  const float* last() const { return row(rows - 1); }
};

class PlanExecutor {
 public:
  // `plan`, `pool` and `collectives` (needed when the plan has collective ops) must outlive the executor.
  // `collectives`, when given, join exactly the plan's tensor-parallel group (size() == plan.parallel.size: in a
  // pipeline job, the stage's ranks, not the world); Run refuses others.
  PlanExecutor(const ir::Plan& plan, ThreadPool& pool, Collectives* collectives = nullptr);
  // An executor that reads every weight where it lies (no packed copies: the slower F32-activation matmul),
  // for a pass or two where packing would cost more than it saves (a router scoring a prompt with an expert).
  static std::unique_ptr<PlanExecutor> Unpacked(const ir::Plan& plan, ThreadPool& pool);

  // Runs every sequence's new tokens; returns one logits row per sequence with want_logits, in batch order.
  // Bad token ids or an inconsistent batch give an error before anything is written to the cache.
  // `stop_after` >= 0 stops after that node: its output is then what Output() returns.
  // A pipeline stage before the last returns its outgoing residual stream instead: one row per batch token,
  // n_vocab() = dim wide, the next stage's Batch::stage_input (valid until the next Run).
  Result<Logits> Run(const Batch& batch, PagedKvCache& kv, int stop_after = -1);

  // Run in pieces, so that two executors can interleave at collective boundaries (pipeline_step.h): Begin
  // checks and lays out the step; RunToCollective runs nodes until it has posted a collective (pending()) or
  // the plan is done (done()); FinishCollective waits for the posted one. Run is exactly this loop.
  // `batch` and `kv` must stay alive until done().
  [[nodiscard]] Status Begin(const Batch& batch, PagedKvCache& kv, int stop_after = -1);
  [[nodiscard]] Status RunToCollective();
  [[nodiscard]] Status FinishCollective();
  // Drops the step in progress (after another executor's error); a collective in flight is waited for.
  void Abandon();
  bool pending() const { return pending_node_ >= 0; }
  bool done() const { return batch_ == nullptr; }
  Logits output() const;  // once done(): what Run returns
  // Another executor of the same plan, pool and collectives that shares this one's packed weights (no second
  // copy) and has its own arena: the second half of an overlapped step.
  std::unique_ptr<PlanExecutor> Twin() const;
  // Trace: slices' names end with `tag`; `step_slice` false leaves the enclosing step slice to the caller;
  // collectives go to `collectives` (a second lane, so two halves' in-flight collectives do not cross on one).
  void set_trace(std::string tag, bool step_slice, Track collectives) {
    trace_tag_ = std::move(tag), step_slice_ = step_slice, collectives_track_ = collectives;
  }
  // A node's output of the last Run (valid if the node ran and its buffer was not reused since).
  const float* Output(int node_id) const { return Buf(node_id); }

  // Whether this backend has a kernel for `op` (every op: the registration table is complete).
  static bool HasKernel(ir::Op op) { return Kernels()[static_cast<size_t>(op)] != nullptr; }

  int64_t n_vocab() const { return n_vocab_; }  // the output's width (a stage before the last: dim)
  // Pipeline stages: the width of each Batch::stage_input row this plan reads (0: it starts from tokens), and
  // whether its output is the residual stream for the next stage rather than logits.
  int64_t stage_input_width() const { return stage_input_width_; }
  bool outputs_stage() const { return !plan_.parallel.last_stage(); }
  const ir::Plan& plan() const { return plan_; }
  const ir::MemoryPlan& memory_plan() const { return *mp_; }
  // A KV cache of `num_blocks` blocks shaped for this plan.
  PagedKvCache MakeKvCache(int64_t num_blocks, int64_t block_size) const;

 private:
  // One kernel per op (the CPU backend's registration table is in plan_executor.cpp).
  using Kernel = void (PlanExecutor::*)(const ir::Node& n, PagedKvCache& kv);
  static const std::array<Kernel, ir::kNumOps>& Kernels();

  Status CheckTokens(const std::vector<int32_t>& tokens) const;
  void Bind(const ir::Binding& b);
  void RunEmbedding(const ir::Node& n, PagedKvCache& kv);
  void RunRmsNorm(const ir::Node& n, PagedKvCache& kv);
  void RunLinear(const ir::Node& n, PagedKvCache& kv);
  void RunRope(const ir::Node& n, PagedKvCache& kv);
  void RunKvStore(const ir::Node& n, PagedKvCache& kv);
  void RunAttnScores(const ir::Node& n, PagedKvCache& kv);
  void RunSoftmax(const ir::Node& n, PagedKvCache& kv);
  void RunAttnValues(const ir::Node& n, PagedKvCache& kv);
  void RunAttention(const ir::Node& n, PagedKvCache& kv);
  void RunAdd(const ir::Node& n, PagedKvCache& kv);
  void RunActivate(const ir::Node& n, PagedKvCache& kv);
  void RunMul(const ir::Node& n, PagedKvCache& kv);
  void RunScale(const ir::Node& n, PagedKvCache& kv);
  void RunSoftcap(const ir::Node& n, PagedKvCache& kv);
  void RunMoe(const ir::Node& n, PagedKvCache& kv);
  void RunGatherRows(const ir::Node& n, PagedKvCache& kv);
  void RunAllReduce(const ir::Node& n, PagedKvCache& kv);
  void RunAllGather(const ir::Node& n, PagedKvCache& kv);
  void RunCopy(const ir::Node& n, PagedKvCache& kv);
  void RunStageInput(const ir::Node& n, PagedKvCache& kv);
  void RunNothing(const ir::Node&, PagedKvCache&) {}
  struct Packed;
  PlanExecutor(const ir::Plan& plan, ThreadPool& pool, Collectives* collectives, std::shared_ptr<const Packed> packed);
  static std::shared_ptr<const Packed> PackWeights(const ir::Plan& plan, bool pack = true);
  static void PackExperts(const ir::Plan& plan, const ir::Node& n, bool pack, Packed& out);
  Status CheckBatch(const Batch& batch, const PagedKvCache& kv) const;
  void Post(const ir::Node& n, Result<Collectives::Handle> h);
  Status Failed(const ir::Node& n);
  void EndStep();
  void MatMul(int weight, const float* x, float* y, int64_t rows);
  void StoreKv(const ir::Node& n, PagedKvCache& kv, const float* k, const float* v);
  kernels::PagedKvView KvView(const ir::Node& n, PagedKvCache& kv) const;
  kernels::RopeParams RopeOf(const ir::Node& n) const;
  const float* In(const ir::Node& n, int i) const { return Buf(n.inputs[static_cast<size_t>(i)]); }
  int64_t Numel(const ir::Node& n) const { return binding_.Numel(n.shape); }
  void TraceNode(const ir::Node& n, int64_t begin_us);
  int64_t Rows(const ir::Node& n) const { return binding_.Dim(n.shape[0]); }
  float* Buf(int id) const { return arena_base_ + mp_->offset[static_cast<size_t>(id)] / sizeof(float); }
  // Null when the node has no scratch buffer (offset -1): forming arena_base_ - 1 would already be undefined.
  float* Scratch(int id) const {
    const int64_t offset = ir::ScratchOffset(*mp_, id, plan_.nodes.size());
    return offset < 0 ? nullptr : arena_base_ + offset / static_cast<int64_t>(sizeof(float));
  }

  const ir::Plan& plan_;
  ThreadPool& pool_;
  // A MoE node's experts: each expert's gate/up/down matrix (a view) and its packed copy (or null).
  struct ExpertMatrices {
    std::array<Tensor, 3> views;
    std::array<std::unique_ptr<kernels::PackedWeight>, 3> packed;
  };
  struct Packed {
    std::vector<std::shared_ptr<const kernels::PackedWeight>> weights;  // by weight index; null: MatMul reads it as is
    std::map<int, std::vector<ExpertMatrices>> experts;           // by node id
  };
  std::shared_ptr<const Packed> packed_;  // shared with a Twin
  std::vector<int64_t> tokens_per_expert_;               // of the last MoE node run (for the trace)
  Collectives* collectives_;
  Status comm_;  // the first failed collective: the executor cannot run again (the group is broken)
  int64_t n_vocab_ = 0;       // logits width (the full vocabulary, after any all-gather)
  int64_t n_embd_rows_ = -1;  // valid token ids are below this (-1: no embedding, ids are not read)
  int64_t stage_input_width_ = 0;  // > 0: the plan starts at a stage_input node this wide
  // Memory plans by rounded binding: steps of similar size share one plan and the arena only grows.
  std::map<std::tuple<int64_t, int64_t, int64_t>, ir::MemoryPlan> plans_;
  const ir::MemoryPlan* mp_ = nullptr;
  std::vector<float> arena_;
  float* arena_base_ = nullptr;
  ir::Binding binding_;
  const Batch* batch_ = nullptr;
  BatchLayout layout_;
  std::vector<const int32_t*> row_tables_;
  int64_t block_size_ = 0;
  // The step in progress (Begin .. done): the next node to run, the node whose collective is in flight.
  PagedKvCache* kv_ = nullptr;
  int stop_after_ = -1;
  size_t next_node_ = 0;
  int pending_node_ = -1;
  Collectives::Handle pending_ = Collectives::kFinished;
  int64_t pending_begin_us_ = 0, step_begin_us_ = 0;
  std::string step_args_, trace_tag_;
  bool step_slice_ = true;
  Track collectives_track_ = Track::kCollectives;
};

}  // namespace strata
