// Each `strata` subcommand registers itself on the app; its callback stores the process exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace strata::cli {

void RegisterRun(CLI::App& app, int& exit_code);
void RegisterChat(CLI::App& app, int& exit_code);
void RegisterTokenize(CLI::App& app, int& exit_code);
void RegisterTemplate(CLI::App& app, int& exit_code);
void RegisterInfo(CLI::App& app, int& exit_code);
void RegisterPlan(CLI::App& app, int& exit_code);
void RegisterServe(CLI::App& app, int& exit_code);
void RegisterRouter(CLI::App& app, int& exit_code);
void RegisterBench(CLI::App& app, int& exit_code);
void RegisterGenModel(CLI::App& app, int& exit_code);
void RegisterConvert(CLI::App& app, int& exit_code);
// `strata bench -m FILE`: the options and callback of the model benchmark on the bench command itself.
void AddBenchModel(CLI::App* bench, int& exit_code);

}  // namespace strata::cli
