#include "runtime/plan_executor.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <string>

#include "compiler/op_cost.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/embedding.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/moe.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/kernels/rms_norm.h"
#include "runtime/kernels/rope.h"
#include "runtime/packed_weights.h"
#include "runtime/profiler.h"

namespace strata {
namespace {

int64_t RoundUp(int64_t x) { return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(x, 1)))); }

Track TrackOf(const ir::Node& n) {
  if (n.op == ir::Op::kCopy) return Track::kCopies;
  if (n.op == ir::Op::kAllReduce || n.op == ir::Op::kAllGather) return Track::kCollectives;
  return n.placement == ir::Placement::kHost ? Track::kHost : Track::kCompute;
}

}  // namespace

PlanExecutor::PlanExecutor(const ir::Plan& plan, ThreadPool& pool, Collectives* collectives)
    : PlanExecutor(plan, pool, collectives, PackWeights(plan)) {}

PlanExecutor::PlanExecutor(const ir::Plan& plan, ThreadPool& pool, Collectives* collectives,
                           std::shared_ptr<const Packed> packed)
    : plan_(plan), pool_(pool), packed_(std::move(packed)), collectives_(collectives) {
  n_vocab_ = plan.node(plan.output).shape.back();
  for (const ir::Node& n : plan.nodes) {
    if (n.op == ir::Op::kEmbedding) n_embd_rows_ = plan.weight(n.weight).dim(0);
    if (n.op == ir::Op::kStageInput) stage_input_width_ = n.shape.back();
  }
}

std::unique_ptr<PlanExecutor> PlanExecutor::Unpacked(const ir::Plan& plan, ThreadPool& pool) {
  return std::unique_ptr<PlanExecutor>(new PlanExecutor(plan, pool, nullptr, PackWeights(plan, /*pack=*/false)));
}

std::unique_ptr<PlanExecutor> PlanExecutor::Twin() const {
  return std::unique_ptr<PlanExecutor>(new PlanExecutor(plan_, pool_, collectives_, packed_));
}

// Quantized projection weights are repacked once for the integer kernels (kernels/quant_matmul.h); the
// repacked copy is what every step reads. Others (and every weight when the integer path is off) stay as they
// are for MatMul. Large models pack on every hardware thread, each taking the next weight (they differ in
// size): packing is most of the time a Composition of Experts takes to bring an expert into RAM.
std::shared_ptr<const PlanExecutor::Packed> PlanExecutor::PackWeights(const ir::Plan& plan, bool pack) {
  auto packed = std::make_shared<Packed>();
  packed->weights.resize(plan.weights.size());
  std::vector<int> todo;
  std::vector<bool> seen(plan.weights.size(), false);
  int64_t bytes = 0;
  for (const ir::Node& n : plan.nodes) {
    if (n.op == ir::Op::kMoe) PackExperts(plan, n, pack, *packed);
    if (!pack || (n.op != ir::Op::kMatMul && n.op != ir::Op::kGatedFfn)) continue;
    for (int w : {n.weight, n.weight2})
      if (w >= 0 && !seen[static_cast<size_t>(w)]) {
        seen[static_cast<size_t>(w)] = true;
        todo.push_back(w);
        bytes += static_cast<int64_t>(plan.weight(w).nbytes());
      }
  }
  // A weight some other op reads as it is (a tied embedding) keeps its source bytes.
  std::vector<bool> read_raw(plan.weights.size(), false);
  for (const ir::Node& n : plan.nodes)
    if (n.op != ir::Op::kMatMul && n.op != ir::Op::kGatedFfn && n.weight >= 0) read_raw[static_cast<size_t>(n.weight)] = true;
  auto pack_one = [&](int w) {
    packed->weights[static_cast<size_t>(w)] = SharedPack(plan.weight(w), !read_raw[static_cast<size_t>(w)]);
  };
  constexpr int64_t kParallelBytes = int64_t{16} << 20;  // below this, starting threads costs more than it saves
  if (bytes < kParallelBytes || todo.size() < 2) {
    for (int w : todo) pack_one(w);
    return packed;
  }
  std::atomic<size_t> next{0};
  ThreadPool(0).Run([&](int, int) {
    for (size_t i; (i = next.fetch_add(1)) < todo.size();) pack_one(todo[i]);
  });
  return packed;
}

// Each expert's matrices are views of the [experts, n, k] tensors, packed one by one like any projection.
void PlanExecutor::PackExperts(const ir::Plan& plan, const ir::Node& n, bool pack, Packed& out) {
  std::vector<ExpertMatrices>& experts = out.experts[n.id];
  const int64_t count = plan.weight(n.expert_weights[0]).dim(0);
  experts.resize(static_cast<size_t>(count));
  for (int64_t e = 0; e < count; ++e)
    for (size_t which = 0; which < 3; ++which) {
      ExpertMatrices& m = experts[static_cast<size_t>(e)];
      m.views[which] = plan.weight(n.expert_weights[which]).Index(e);
      if (pack) m.packed[which] = kernels::PackedWeight::Pack(m.views[which]);
    }
}

void PlanExecutor::MatMul(int weight, const float* x, float* y, int64_t rows) {
  if (const kernels::PackedWeight* p = packed_->weights[static_cast<size_t>(weight)].get())
    return kernels::QuantMatMul(*p, x, y, rows, pool_);
  kernels::MatMul(plan_.weight(weight), x, y, rows, pool_);
}

PagedKvCache PlanExecutor::MakeKvCache(int64_t num_blocks, int64_t block_size) const {
  return PagedKvCache(plan_.kv.n_layers, num_blocks, block_size, plan_.kv.kv_dim, plan_.kv.dtype);
}

Status PlanExecutor::CheckTokens(const std::vector<int32_t>& tokens) const {
  if (n_embd_rows_ < 0) return Status::Ok();
  for (int32_t id : tokens)
    if (id < 0 || id >= n_embd_rows_)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                     std::to_string(n_embd_rows_) + ")");
  return Status::Ok();
}

// Plans memory for the binding rounded up to powers of two, so decode steps of a growing context and prefill
// chunks of similar size reuse one plan; the arena grows to the largest plan used.
void PlanExecutor::Bind(const ir::Binding& b) {
  binding_ = b;
  const ir::Binding key{RoundUp(b.tokens), RoundUp(b.out_rows), RoundUp(b.context)};
  auto it = plans_.find({key.tokens, key.out_rows, key.context});
  if (it == plans_.end())
    it = plans_.emplace(std::make_tuple(key.tokens, key.out_rows, key.context),
                        ir::PlanMemory(plan_, key, ir::ScratchBytes(plan_, key))).first;
  mp_ = &it->second;
  const auto need = static_cast<size_t>(mp_->arena_bytes / static_cast<int64_t>(sizeof(float))) + 16;
  if (arena_.size() < need) {
    arena_.assign(need, 0.0f);
    const auto addr = reinterpret_cast<uintptr_t>(arena_.data());
    arena_base_ = arena_.data() + ((64 - addr % 64) % 64) / sizeof(float);
  }
}

Status PlanExecutor::CheckBatch(const Batch& batch, const PagedKvCache& kv) const {
  if (kv.n_layers() != plan_.kv.n_layers || kv.kv_dim() != plan_.kv.kv_dim)
    return Status::InvalidArgument("KV cache shape does not match the plan");
  if ((batch.stage_input != nullptr) != (stage_input_width_ > 0))
    return Status::InvalidArgument(stage_input_width_ > 0 ? "pipeline stage " + std::to_string(plan_.parallel.stage) +
                                                          " needs the previous stage's activations (Batch::stage_input)"
                                                    : std::string("stage input given to a plan that starts from tokens"));
  // A collective over a different number of ranks than the plan was split for would wait forever (or, for
  // pipeline stages run as if they were tensor-parallel ranks, compute nonsense).
  if (collectives_ && collectives_->size() != plan_.parallel.size)
    return Status::InvalidArgument(
        "plan of tensor-parallel size " + std::to_string(plan_.parallel.size) + " run with " +
        std::to_string(collectives_->size()) + " ranks" +
        (plan_.parallel.stages > 1 ? "; pipeline stages run one per process (--pp needs MPI)" : ""));
  return CheckTokens(batch.tokens);
}

Result<Logits> PlanExecutor::Run(const Batch& batch, PagedKvCache& kv, int stop_after) {
  STRATA_RETURN_IF_ERROR(Begin(batch, kv, stop_after));
  while (!done()) {
    STRATA_RETURN_IF_ERROR(RunToCollective());
    if (pending()) STRATA_RETURN_IF_ERROR(FinishCollective());
  }
  return output();
}

Status PlanExecutor::Begin(const Batch& batch, PagedKvCache& kv, int stop_after) {
  if (!done()) return Status::Internal("a step is already in progress on this executor");
  STRATA_RETURN_IF_ERROR(CheckBatch(batch, kv));
  STRATA_RETURN_IF_ERROR(LayoutBatch(batch, kv.block_size(), kv.num_blocks(), layout_));
  const auto T = static_cast<int64_t>(batch.tokens.size());
  row_tables_.resize(static_cast<size_t>(T));
  int64_t context = 1;
  for (int64_t t = 0; t < T; ++t) {
    row_tables_[static_cast<size_t>(t)] = batch.seqs[static_cast<size_t>(layout_.row_seq[static_cast<size_t>(t)])].block_table.data();
    context = std::max<int64_t>(context, layout_.positions[static_cast<size_t>(t)] + 1);
  }
  batch_ = &batch;
  kv_ = &kv;
  block_size_ = kv.block_size();
  stop_after_ = stop_after;
  next_node_ = 0;
  Bind({T, static_cast<int64_t>(layout_.logit_rows.size()), context});
  if (Profiler::active()) {
    step_begin_us_ = Profiler::NowUs();
    step_args_ = "\"tokens\":" + std::to_string(T) + ",\"sequences\":" + std::to_string(batch.seqs.size()) +
                 ",\"context\":" + std::to_string(context);
  }
  return Status::Ok();
}

void PlanExecutor::Abandon() {
  if (pending()) (void)collectives_->Finish(pending_);  // a broken group answers at once
  batch_ = nullptr, pending_node_ = -1, pending_ = Collectives::kFinished;
}

// A failed collective: the ranks no longer agree on anything, the step ends here.
Status PlanExecutor::Failed(const ir::Node& n) {
  batch_ = nullptr, pending_node_ = -1;
  return comm_.WithContext("rank " + std::to_string(plan_.parallel.rank) + ", " + n.name);
}

void PlanExecutor::EndStep() {
  if (Profiler* prof = Profiler::active(); prof && step_slice_)
    prof->Slice(Track::kCompute, plan_.parallel.global_rank(), "step" + trace_tag_, step_begin_us_, Profiler::NowUs(), step_args_);
  batch_ = nullptr;
}

Status PlanExecutor::RunToCollective() {
  if (done() || pending()) return Status::Internal("RunToCollective without a step ready to run");
  Profiler* prof = Profiler::active();
  while (next_node_ < plan_.nodes.size()) {
    const ir::Node& n = plan_.nodes[next_node_++];
    const int64_t begin = prof ? Profiler::NowUs() : 0;
    if (n.op != ir::Op::kTokens) (this->*Kernels()[static_cast<size_t>(n.op)])(n, *kv_);
    if (!comm_.ok()) return Failed(n);
    if (pending()) {  // posted: the slice ends when FinishCollective completes it
      pending_begin_us_ = begin;
      return Status::Ok();
    }
    if (prof) TraceNode(n, begin);
    if (collectives_) collectives_->Progress();  // the other half's collective, if one is in flight
    if (n.id == stop_after_) break;
  }
  EndStep();
  return Status::Ok();
}

Status PlanExecutor::FinishCollective() {
  if (!pending()) return Status::Internal("FinishCollective without a collective in flight");
  const ir::Node& n = plan_.node(pending_node_);
  comm_ = collectives_->Finish(pending_);
  pending_node_ = -1, pending_ = Collectives::kFinished;
  if (!comm_.ok()) return Failed(n);
  if (Profiler::active()) TraceNode(n, pending_begin_us_);
  if (n.id == stop_after_ || next_node_ == plan_.nodes.size()) EndStep();
  return Status::Ok();
}

// R logit rows, or (a stage before the last) every one of the T rows.
Logits PlanExecutor::output() const {
  return Logits{Buf(plan_.output), binding_.Dim(plan_.node(plan_.output).shape[0]), n_vocab_};
}

void PlanExecutor::TraceNode(const ir::Node& n, int64_t begin_us) {
  if (n.op == ir::Op::kTokens) return;
  const ir::OpCost c = ir::EstimateOpCost(plan_, n, binding_);
  std::string name = ir::NodeLabel(n);
  if (n.placement == ir::Placement::kHost && n.op != ir::Op::kCopy) name += " (host fallback)";
  name += trace_tag_;
  std::string args = "\"node\":\"" + n.name + "\",\"bytes\":" + std::to_string(c.bytes()) +
                     ",\"flops\":" + std::to_string(c.flops);
  if (n.op == ir::Op::kMoe) {  // how the step's tokens spread over this rank's experts
    args += ",\"tokens_per_expert\":[";
    for (size_t e = 0; e < tokens_per_expert_.size(); ++e) args += (e ? "," : "") + std::to_string(tokens_per_expert_[e]);
    args += "]";
  }
  Track track = TrackOf(n);
  if (track == Track::kCollectives) track = collectives_track_;
  Profiler::active()->Slice(track, plan_.parallel.global_rank(), name, begin_us, Profiler::NowUs(), args);
}

const std::array<PlanExecutor::Kernel, ir::kNumOps>& PlanExecutor::Kernels() {
  static const std::array<Kernel, ir::kNumOps> table = [] {
    std::array<Kernel, ir::kNumOps> t{};
    auto reg = [&](ir::Op op, Kernel k) { t[static_cast<size_t>(op)] = k; };
    reg(ir::Op::kTokens, &PlanExecutor::RunNothing);
    reg(ir::Op::kStageInput, &PlanExecutor::RunStageInput);
    reg(ir::Op::kEmbedding, &PlanExecutor::RunEmbedding);
    reg(ir::Op::kRmsNorm, &PlanExecutor::RunRmsNorm);
    reg(ir::Op::kMatMul, &PlanExecutor::RunLinear);
    reg(ir::Op::kRope, &PlanExecutor::RunRope);
    reg(ir::Op::kKvStore, &PlanExecutor::RunKvStore);
    reg(ir::Op::kAttnScores, &PlanExecutor::RunAttnScores);
    reg(ir::Op::kSoftmax, &PlanExecutor::RunSoftmax);
    reg(ir::Op::kAttnValues, &PlanExecutor::RunAttnValues);
    reg(ir::Op::kAttention, &PlanExecutor::RunAttention);
    reg(ir::Op::kAdd, &PlanExecutor::RunAdd);
    reg(ir::Op::kActivate, &PlanExecutor::RunActivate);
    reg(ir::Op::kMul, &PlanExecutor::RunMul);
    reg(ir::Op::kGatedFfn, &PlanExecutor::RunLinear);
    reg(ir::Op::kScale, &PlanExecutor::RunScale);
    reg(ir::Op::kSoftcap, &PlanExecutor::RunSoftcap);
    reg(ir::Op::kMoe, &PlanExecutor::RunMoe);
    reg(ir::Op::kGatherRows, &PlanExecutor::RunGatherRows);
    reg(ir::Op::kAllReduce, &PlanExecutor::RunAllReduce);
    reg(ir::Op::kAllGather, &PlanExecutor::RunAllGather);
    reg(ir::Op::kCopy, &PlanExecutor::RunCopy);
    return t;
  }();
  return table;
}

kernels::RopeParams PlanExecutor::RopeOf(const ir::Node& n) const {
  return {.head_dim = n.head_dim, .rope_dim = n.rope_dim, .base = n.rope_base, .freq_scale = n.rope_freq_scale,
          .mode = n.rope_mode, .freq_factors = n.rope_freqs >= 0 ? plan_.weight(n.rope_freqs).data_as<float>() : nullptr};
}

kernels::PagedKvView PlanExecutor::KvView(const ir::Node& n, PagedKvCache& kv) const {
  return {kv.k_layer(n.layer), kv.v_layer(n.layer), block_size_, row_tables_.data(), kv.dtype(), kv.row_bytes()};
}

namespace {
kernels::AttentionShape HeadsOf(const ir::Node& n) {
  return {.n_heads = n.n_heads, .n_kv_heads = n.n_kv_heads, .head_dim = n.head_dim, .scale = n.scale,
          .softcap = n.softcap, .window = n.window};
}
}  // namespace

// MatMul and gated FFN with whatever was fused into them: an RMSNorm of the input before, bias, RoPE and a
// residual add after. Each part runs the same kernel as its unfused op, so fusion does not change the numbers.
void PlanExecutor::RunLinear(const ir::Node& n, PagedKvCache&) {
  const ir::Node& x_node = plan_.node(n.inputs[0]);
  const float* x = Buf(x_node.id);
  const int64_t rows = Rows(n), k = x_node.shape.back(), width = n.shape.back();
  float* out = Buf(n.id);
  float* scratch = Scratch(n.id);
  if (n.norm_weight >= 0) {
    kernels::RmsNorm(x, plan_.weight(n.norm_weight).data_as<float>(), scratch, rows, k, n.eps, pool_);
    x = scratch;
    scratch += rows * k;
  }
  MatMul(n.weight, x, out, rows);
  if (n.bias >= 0)
    for (int64_t r = 0; r < rows; ++r) kernels::AddReference(out + r * width, plan_.weight(n.bias).data_as<float>(), out + r * width, width);
  if (n.op == ir::Op::kGatedFfn) {
    MatMul(n.weight2, x, scratch, rows);
    kernels::Activate(n.act, out, out, rows * width, pool_);
    kernels::Mul(out, scratch, out, rows * width, pool_);
  }
  if (n.rope) kernels::Rope(out, rows, width, RopeOf(n), layout_.positions.data(), pool_);
  if (n.residual) kernels::Add(Buf(n.inputs.back()), out, out, rows * width, pool_);
}

// The received activations are copied into the arena so the memory plan may place and reuse their buffer like
// any other; the copy is T * dim floats, small beside one layer's work.
void PlanExecutor::RunStageInput(const ir::Node& n, PagedKvCache&) {
  std::memcpy(Buf(n.id), batch_->stage_input, static_cast<size_t>(Numel(n)) * sizeof(float));
}

void PlanExecutor::RunEmbedding(const ir::Node& n, PagedKvCache&) {
  kernels::Embedding(plan_.weight(n.weight), batch_->tokens.data(), binding_.tokens, Buf(n.id), pool_);
}

// A norm weight narrower than the row normalises each group of its width (per-head norms): the same kernel
// over rows × groups rows of the group width.
void PlanExecutor::RunRmsNorm(const ir::Node& n, PagedKvCache&) {
  const Tensor& w = plan_.weight(n.weight);
  const int64_t width = n.shape.back(), groups = width / w.numel();
  kernels::RmsNorm(In(n, 0), w.data_as<float>(), Buf(n.id), Rows(n) * groups, w.numel(), n.eps, pool_);
}

void PlanExecutor::RunRope(const ir::Node& n, PagedKvCache&) {
  float* out = Buf(n.id);
  std::memcpy(out, In(n, 0), static_cast<size_t>(Numel(n)) * sizeof(float));
  kernels::Rope(out, Rows(n), n.shape.back(), RopeOf(n), layout_.positions.data(), pool_);
}

// Each new row into its slot, converted to the cache's type (F16 rounds to nearest even, Q8_0 as ggml
// quantizes: one scale per 32 values).
void PlanExecutor::StoreKv(const ir::Node& n, PagedKvCache& kv, const float* k, const float* v) {
  const int64_t dim = plan_.kv.kv_dim;
  for (int64_t t = 0; t < binding_.tokens; ++t) {
    const int64_t slot = layout_.slots[static_cast<size_t>(t)];
    if (kv.dtype() == DType::kF32) {
      std::memcpy(kv.k(n.layer, slot), k + t * dim, static_cast<size_t>(kv.row_bytes()));
      std::memcpy(kv.v(n.layer, slot), v + t * dim, static_cast<size_t>(kv.row_bytes()));
    } else {
      QuantizeRow(kv.dtype(), k + t * dim, kv.k(n.layer, slot), dim);
      QuantizeRow(kv.dtype(), v + t * dim, kv.v(n.layer, slot), dim);
    }
  }
}

void PlanExecutor::RunKvStore(const ir::Node& n, PagedKvCache& kv) { StoreKv(n, kv, In(n, 0), In(n, 1)); }

void PlanExecutor::RunAttnScores(const ir::Node& n, PagedKvCache& kv) {
  kernels::AttnScores(In(n, 0), binding_.tokens, layout_.positions.data(), KvView(n, kv), HeadsOf(n), binding_.context,
                      Buf(n.id), pool_);
}

void PlanExecutor::RunSoftmax(const ir::Node& n, PagedKvCache&) {
  const ir::Node& scores = plan_.node(n.inputs[0]);
  kernels::CausalSoftmax(In(n, 0), binding_.tokens, n.shape[1], binding_.context, layout_.positions.data(),
                         scores.window, Buf(n.id), pool_);
}

void PlanExecutor::RunAttnValues(const ir::Node& n, PagedKvCache& kv) {
  kernels::AttnValues(In(n, 0), binding_.tokens, layout_.positions.data(), KvView(n, kv), HeadsOf(n), binding_.context,
                      Buf(n.id), pool_);
}

void PlanExecutor::RunAttention(const ir::Node& n, PagedKvCache& kv) {
  StoreKv(n, kv, In(n, 1), In(n, 2));
  kernels::Attention(In(n, 0), binding_.tokens, layout_.positions.data(), KvView(n, kv), HeadsOf(n), Buf(n.id), pool_);
}

void PlanExecutor::RunAdd(const ir::Node& n, PagedKvCache&) { kernels::Add(In(n, 0), In(n, 1), Buf(n.id), Numel(n), pool_); }
void PlanExecutor::RunActivate(const ir::Node& n, PagedKvCache&) { kernels::Activate(n.act, In(n, 0), Buf(n.id), Numel(n), pool_); }
void PlanExecutor::RunScale(const ir::Node& n, PagedKvCache&) { kernels::Scale(In(n, 0), n.scale, Buf(n.id), Numel(n), pool_); }
void PlanExecutor::RunSoftcap(const ir::Node& n, PagedKvCache&) { kernels::Softcap(In(n, 0), n.softcap, Buf(n.id), Numel(n), pool_); }

void PlanExecutor::RunMul(const ir::Node& n, PagedKvCache&) {
  if (plan_.node(n.inputs[1]).shape.back() == 1 && n.shape.back() != 1)
    return kernels::MulRows(In(n, 0), Rows(n), n.shape.back(), In(n, 1), Buf(n.id), pool_);
  kernels::Mul(In(n, 0), In(n, 1), Buf(n.id), Numel(n), pool_);
}

// Router logits, top-k routing, then the local experts' FFNs over the rows routed to each (grouped by expert,
// so each expert's weights are read once per step). Scratch: logits [T, E], experts and weights [T, k], then
// the kernel's own buffers.
void PlanExecutor::RunMoe(const ir::Node& n, PagedKvCache&) {
  const int64_t rows = Rows(n), dim = n.shape.back(), k = n.n_experts_used;
  const int64_t n_experts = plan_.weight(n.weight).dim(0), ffn = plan_.weight(n.expert_weights[0]).dim(1);
  float* logits = Scratch(n.id);
  auto* experts = reinterpret_cast<int32_t*>(logits + rows * n_experts);
  float* weights = logits + rows * n_experts + rows * k;
  float* scratch = weights + rows * k;
  MatMul(n.weight, In(n, 0), logits, rows);
  kernels::MoeRoute(logits, rows, n_experts, k, n.moe_renormalize, experts, weights);
  const std::vector<ExpertMatrices>& local = packed_->experts.at(n.id);
  const kernels::MoeExpertMatMul mm{[&](int64_t e, int which, const float* x, float* y, int64_t m) {
    const ExpertMatrices& em = local[static_cast<size_t>(e - n.expert_begin)];
    if (em.packed[static_cast<size_t>(which)]) return kernels::QuantMatMul(*em.packed[static_cast<size_t>(which)], x, y, m, pool_);
    kernels::MatMul(em.views[static_cast<size_t>(which)], x, y, m, pool_);
  }};
  const int64_t begin = n.expert_end < 0 ? 0 : n.expert_begin, end = n.expert_end < 0 ? n_experts : n.expert_end;
  kernels::MoeFfn(In(n, 0), rows, dim, ffn, begin, end, experts, weights, k, n.act, mm, Buf(n.id), scratch,
                  &tokens_per_expert_, pool_);
}

void PlanExecutor::RunGatherRows(const ir::Node& n, PagedKvCache&) {
  const int64_t width = n.shape.back();
  for (int64_t r = 0; r < binding_.out_rows; ++r)
    std::memcpy(Buf(n.id) + r * width, In(n, 0) + layout_.logit_rows[static_cast<size_t>(r)] * width,
                static_cast<size_t>(width) * sizeof(float));
}

void PlanExecutor::RunCopy(const ir::Node& n, PagedKvCache&) {
  std::memcpy(Buf(n.id), In(n, 0), static_cast<size_t>(Numel(n)) * sizeof(float));
}

// Collectives are posted, not waited for: RunToCollective returns with the node pending.
void PlanExecutor::Post(const ir::Node& n, Result<Collectives::Handle> h) {
  if (!h.ok()) {
    comm_ = h.status();
    return;
  }
  pending_ = h.value();
  pending_node_ = n.id;
}

void PlanExecutor::RunAllReduce(const ir::Node& n, PagedKvCache&) {
  Post(n, collectives_->StartAllReduceSum(plan_.parallel.rank, In(n, 0), Buf(n.id), Numel(n)));
}

void PlanExecutor::RunAllGather(const ir::Node& n, PagedKvCache&) {
  Post(n, collectives_->StartAllGather(plan_.parallel.rank, In(n, 0), Rows(n), plan_.node(n.inputs[0]).shape.back(), Buf(n.id)));
}

}  // namespace strata
