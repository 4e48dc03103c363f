// `strata plan`: compile a model into its plan and print it, one line per node.
#include <cstdio>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "compiler/plan_printer.h"

namespace strata::cli {
namespace {

struct PlanOptions {
  std::string model;
};

int Plan(const PlanOptions& o) {
  CompiledModel compiled;
  if (!LoadAndCompile(o.model, compiled)) return 1;
  std::fputs(ir::PrintPlan(compiled.plan).c_str(), stdout);
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
