// The `strata` binary: subcommands run, tokenize, info, plan, serve, router, bench, gen-model and convert;
// with no arguments, a guide to the first steps (cli/guide.h).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/guide.h"
#include "core/log.h"

int main(int argc, char** argv) {
  if (argc == 1) {  // someone trying the binary: what to do, not a usage error
    strata::cli::PrintGuide(stdout);
    return 0;
  }
  CLI::App app{"Strata: run large language models on the CPU"};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    std::string message = CLI::FailureMessage::simple(a, e);
    if (e.get_name() == "RequiredError" && std::string(e.what()).find("--model") != std::string::npos)
      message += strata::cli::MissingModelHint();
    return message;
  });
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (logs go to stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.parse_complete_callback([&] { strata::InitLogging(log_level); });
  int exit_code = 0;
  strata::cli::RegisterRun(app, exit_code);
  strata::cli::RegisterChat(app, exit_code);
  strata::cli::RegisterTokenize(app, exit_code);
  strata::cli::RegisterTemplate(app, exit_code);
  strata::cli::RegisterInfo(app, exit_code);
  strata::cli::RegisterPlan(app, exit_code);
  strata::cli::RegisterServe(app, exit_code);
  strata::cli::RegisterRouter(app, exit_code);
  strata::cli::RegisterBench(app, exit_code);
  strata::cli::RegisterGenModel(app, exit_code);
  strata::cli::RegisterConvert(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
