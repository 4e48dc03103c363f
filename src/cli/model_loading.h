// Loading a model from the command line: shows progress on stderr and reports errors in one line.
#pragma once

#include <memory>
#include <string>

#include "compiler/ir.h"
#include "model/model.h"

namespace strata::cli {

// Loads `path` with a progress display; on failure logs the error and returns null.
std::unique_ptr<Model> LoadModelWithProgress(const std::string& path);

// A loaded model and its compiled plan (the plan views the model's weights, so they travel together).
struct CompiledModel {
  std::unique_ptr<Model> model;
  ir::Plan plan;
};

// Loads `path` and builds its plan; on failure logs the error and returns false.
bool LoadAndCompile(const std::string& path, CompiledModel& out);

}  // namespace strata::cli
