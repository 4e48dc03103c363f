// `strata plan`: compile a model and show its plan — after every pass with --print-after-all, as text or
// JSON — with the static memory plan (peak vs naive bytes, validated), an optional roofline cost per op, and
// --dump-at to run the plan on a prompt up to one node and print that tensor.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "compiler/cost_model.h"
#include "compiler/passes/memory_plan.h"
#include "compiler/plan_printer.h"
#include "core/log.h"
#include "runtime/cpu_executor.h"
#include "runtime/cost_probe.h"

namespace strata::cli {
namespace {

using nlohmann::ordered_json;

struct PlanOptions {
  std::string model;
  CompileFlags compile;
  bool print_after_all = false;
  std::string format = "text";
  int rank = 0;
  int64_t tokens = 0;  // T for the memory report; 0: the context length
  bool cost = false;
  std::string dump_at;
  std::string prompt;
  int threads = 0;
};

// A node by "%12", "12" or its name (the first node of that name).
int FindNode(const ir::Plan& plan, const std::string& spec) {
  const std::string s = !spec.empty() && spec[0] == '%' ? spec.substr(1) : spec;
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    const int id = std::stoi(s);
    return id < static_cast<int>(plan.nodes.size()) ? id : -1;
  }
  for (const ir::Node& n : plan.nodes)
    if (n.name == spec) return n.id;
  return -1;
}

int DumpAt(const PlanOptions& o, const CompiledModel& compiled) {
  const ir::Plan& plan = compiled.ranks[static_cast<size_t>(o.rank)];
  const int node = FindNode(plan, o.dump_at);
  if (node < 0) {
    spdlog::error("--dump-at {}: no such node (give %ID or a node name from `strata plan`)", o.dump_at);
    return 1;
  }
  const Tokenizer& tok = compiled.model->tokenizer();
  const std::vector<int32_t> ids = tok.Encode(o.prompt, tok.add_bos());
  ThreadPool pool(o.threads);
  CpuExecutor exec(compiled.ranks, pool);
  if (Status st = exec.ForwardUntil(ids, node); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  const ir::Node& n = plan.node(node);
  const ir::Binding b{static_cast<int64_t>(ids.size()), static_cast<int64_t>(ids.size()), static_cast<int64_t>(ids.size())};
  std::vector<int64_t> shape;
  for (int64_t d : n.shape) shape.push_back(b.Dim(d));
  const int64_t numel = ir::OutputBytes(n, b) / static_cast<int64_t>(sizeof(float));
  const float* data = exec.NodeOutput(node, o.rank);
  if (n.op == ir::Op::kTokens || numel == 0) {
    spdlog::error("node %{} ({}) has no output tensor to dump", node, ir::NodeLabel(n));
    return 1;
  }
  ordered_json j = {{"node", node}, {"label", ir::NodeLabel(n)}, {"name", n.name}, {"rank", o.rank},
                    {"shape", shape}, {"dtype", "f32"}, {"values", std::vector<float>(data, data + numel)}};
  std::puts(j.dump().c_str());
  return 0;
}

int Plan(const PlanOptions& o) {
  ordered_json steps = ordered_json::array();
  auto observe = [&](const std::string& step, int rank, const ir::Plan& plan) {
    if (!o.print_after_all || rank != o.rank) return;
    if (o.format == "json") return steps.push_back({{"after", step}, {"plan", ir::PlanToJson(plan)}});
    std::printf("# after %s (rank %d)\n%s\n", step.c_str(), rank, ir::PrintPlan(plan).c_str());
  };
  CompiledModel compiled;
  // Compiling needs no tokenizer; only --dump-at encodes a prompt.
  if (!LoadAndCompile(o.model, o.compile, compiled, observe, {.load_tokenizer = !o.dump_at.empty()})) return 1;
  if (o.rank >= static_cast<int>(compiled.ranks.size())) {
    spdlog::error("--rank {} but the plan has {} ranks", o.rank, compiled.ranks.size());
    return 1;
  }
  if (!o.dump_at.empty()) return DumpAt(o, compiled);
  const ir::Plan& plan = compiled.ranks[static_cast<size_t>(o.rank)];
  const int64_t T = o.tokens > 0 ? o.tokens : plan.kv.n_ctx;
  const ir::Binding b{T, 1, plan.kv.n_ctx};
  const ir::MemoryPlan mp = ir::PlanMemory(plan, b, ir::ScratchBytes(plan, b));
  const Status valid = ir::ValidateMemoryPlan(mp);
  std::string cost_text;
  ordered_json cost_json;
  if (o.cost) {
    ThreadPool pool(o.threads);
    const ir::CostRates rates = ProbeCostRates(plan, pool);
    const ir::Binding decode{1, 1, plan.kv.n_ctx / 2};
    const ir::PlanCost cost = ir::EstimatePlanCost(plan, decode, rates);
    const int64_t prompt = std::min<int64_t>(512, plan.kv.n_ctx);
    const ir::PlanCost prefill = ir::EstimatePlanCost(plan, {prompt, 1, prompt}, rates);
    char head[240];
    std::snprintf(head, sizeof head,
                  "cost of one decode step (T=1, C=%lld) at %.1f GB/s and %.1f GFLOP/s measured, with the kernels' "
                  "own rates:\n",
                  static_cast<long long>(decode.context), rates.bandwidth_gbs, rates.gflops);
    char tail[160];
    std::snprintf(tail, sizeof tail, "  prefill of %lld tokens: %.3f ms predicted\n", static_cast<long long>(prompt),
                  prefill.total_seconds * 1e3);
    cost_text = head + ir::DescribePlanCost(plan, cost, 12) + tail;
    cost_json = {{"bandwidth_gbs", rates.bandwidth_gbs}, {"gflops", rates.gflops},
                 {"decode_ms", cost.total_seconds * 1e3}, {"prefill_tokens", prompt}, {"prefill_ms", prefill.total_seconds * 1e3}, {"bytes", cost.total_bytes}, {"flops", cost.total_flops}};
  }
  if (o.format == "json") {
    ordered_json j = {{"plan", ir::PlanToJson(plan)},
                      {"memory", {{"tokens", T}, {"context", b.context}, {"peak_bytes", mp.arena_bytes},
                                  {"naive_bytes", mp.naive_bytes}, {"valid", valid.ok()}}}};
    if (o.print_after_all) j["after_each_pass"] = std::move(steps);
    if (o.cost) j["cost"] = std::move(cost_json);
    std::puts(j.dump(1).c_str());
  } else {
    if (!o.print_after_all) std::fputs(ir::PrintPlan(plan).c_str(), stdout);
    std::printf("memory: %s; %s\n", ir::DescribeMemoryPlan(mp).c_str(),
                valid.ok() ? "validated: no live tensors overlap" : valid.message().c_str());
    std::fputs(cost_text.c_str(), stdout);
  }
  return valid.ok() ? 0 : 1;
}

}  // namespace

void RegisterPlan(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "Compile a model and print its plan (one line per node)");
  cmd->add_option("-m,--model", o->model, "GGUF model file or Hugging Face model folder")->required();
  AddCompileFlags(cmd, o->compile);
  cmd->add_flag("--print-after-all", o->print_after_all, "print the plan after every pass");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--rank", o->rank, "which rank's plan to show (global rank: stage * tp + tensor-parallel rank)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--tokens", o->tokens, "tokens per step for the memory report (default: the context length)");
  cmd->add_flag("--cost", o->cost, "estimate each op's time from its bytes and FLOPs and this machine's measured rates");
  cmd->add_option("--dump-at", o->dump_at, "run the plan on --prompt up to this node (%ID or name) and print its tensor");
  cmd->add_option("--prompt", o->prompt, "prompt for --dump-at");
  cmd->add_option("-t,--threads", o->threads, "compute threads (0: all cores)");
  cmd->callback([o, &exit_code] { exit_code = Plan(*o); });
}

}  // namespace strata::cli
