// `strata plan`: compile a model into its plan and print it, one line per node.
#include <cstdio>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "compiler/llama_builder.h"
#include "compiler/plan_printer.h"
#include "core/log.h"

namespace strata::cli {
namespace {

struct PlanOptions {
  std::string model;
};

int Plan(const PlanOptions& o) {
  auto model = LoadModelWithProgress(o.model);
  if (!model) return 1;
  auto plan = ir::BuildLlamaPlan(*model);
  if (!plan.ok()) {
    spdlog::error("{}", plan.status().message());
    return 1;
  }
  std::fputs(ir::PrintPlan(*plan).c_str(), stdout);
  return 0;
}

}  // namespace

void RegisterPlan(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "Compile a model and print its plan (one line per node)");
  cmd->add_option("-m,--model", opts->model, "GGUF model file")->required();
  cmd->callback([opts, &exit_code] { exit_code = Plan(*opts); });
}

}  // namespace strata::cli
