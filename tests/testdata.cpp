#include "testdata.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace strata::testing {

std::optional<std::string> TestDataDir() {
  const char* env = std::getenv("STRATA_TESTDATA");
  std::string dir = env && *env ? env : STRATA_TESTDATA_DEFAULT;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

std::string TestDataPath(const std::string& relative) { return TestDataDir().value_or("") + "/" + relative; }

std::string StrataBinary() { return STRATA_BINARY; }

namespace {

// Owns one test process's scratch folder and removes it at exit: CTest runs every test as its own process, so
// folders left behind pile up by the thousand in a CI run (tens of GB of converted models). A forked child that
// exits must not remove its parent's folder, hence the pid check.
class ScratchFolder {
 public:
  ScratchFolder()
      : owner_(::getpid()),
        path_(std::filesystem::temp_directory_path() / ("strata-test-" + std::to_string(owner_))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    if (::getpid() != owner_ || std::getenv("STRATA_KEEP_SCRATCH")) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  pid_t owner_;
  std::filesystem::path path_;
};

}  // namespace

std::string ScratchDir() {
  static const ScratchFolder folder;
  return folder.path().string();
}

}  // namespace strata::testing
