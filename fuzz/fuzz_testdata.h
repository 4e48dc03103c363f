// Where a fuzz target finds the shared test data (a real vocabulary): $STRATA_TESTDATA, else the folder the
// build was configured with. Targets that need it print a note and do nothing when it is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace strata::fuzz {

// Path of `relative` under the test data directory if that file exists.
inline std::optional<std::string> TestDataFile(const std::string& relative) {
  const char* env = std::getenv("STRATA_TESTDATA");
  const std::string dir = env != nullptr && *env != '\0' ? env : STRATA_TESTDATA_DEFAULT;
  const std::filesystem::path p = std::filesystem::path(dir) / relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
  return p.string();
}

}  // namespace strata::fuzz
