// Loading a model from the command line: shows progress on stderr and reports errors in one line.
#pragma once

#include <memory>
#include <string>

#include "model/model.h"

namespace strata::cli {

// Loads `path` with a progress display; on failure logs the error and returns null.
std::unique_ptr<Model> LoadModelWithProgress(const std::string& path);

}  // namespace strata::cli
