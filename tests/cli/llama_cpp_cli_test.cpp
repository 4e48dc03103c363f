// `strata bench -m FILE --llama-cpp DIR`: the error without an install, and the comparison over a stand-in
// bench.mjs (a script that answers like bench/llama_cpp/bench.mjs without llama.cpp), so that neither the npm
// package nor minutes of measuring are needed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kArgs = " -p 16 -n 4 -t 1 --json";

// A DIR that passes the install check, whose bench.mjs is `script`.
std::string FakeInstall(const std::string& name, const std::string& script) {
  const fs::path dir = fs::path(ScratchDir()) / name;
  fs::create_directories(dir / "node_modules" / "node-llama-cpp");
  std::ofstream(dir / "node_modules" / "node-llama-cpp" / "package.json") << R"({"name":"node-llama-cpp"})";
  std::ofstream(dir / "bench.mjs") << script;
  return dir.string();
}

bool HaveNode() { return std::system("node --version >/dev/null 2>&1") == 0; }

// Answers 100/10 tok/s at 1 thread and 200/5 at 2: the best prompt and the best decode differ in threads.
// Fails unless it got the lengths that strata was given.
constexpr const char* kFakeBench = R"(
const arg = (k) => process.argv[process.argv.indexOf(k) + 1];
if (arg("--prompt") !== "16" || arg("--gen") !== "4" || !arg("--model").endsWith(".gguf")) process.exit(5);
const t = Number(arg("--threads"));
console.error("log noise goes to stderr");
console.log(JSON.stringify({ engine: "llama.cpp", version: "fake 1", threads: t,
                             pp_tps: t === 1 ? 100 : 200, tg_tps: t === 1 ? 10 : 5 }));
)";

TEST(LlamaCppCli, WithoutInstallSaysRunSetup) {
  STRATA_REQUIRE_TESTDATA();
  const std::string empty = ScratchDir() + "/no-llama-cpp";
  fs::create_directories(empty);
  auto r = Strata("bench -m " + Model("q8_0") + kArgs + " --llama-cpp " + Quote(empty));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bench/llama_cpp/setup.sh"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "fails before measuring";

  ::setenv("STRATA_LLAMA_CPP", (empty + "/missing").c_str(), 1);
  auto env = Strata("bench -m " + Model("q8_0") + kArgs);
  ::unsetenv("STRATA_LLAMA_CPP");
  EXPECT_NE(env.exit_code, 0);
  EXPECT_NE(env.err.find("setup.sh"), std::string::npos) << env.err;
}

TEST(LlamaCppCli, BadThreadListIsAnError) {
  STRATA_REQUIRE_TESTDATA();
  const std::string dir = FakeInstall("threads", kFakeBench);
  auto r = Strata("bench -m " + Model("q8_0") + kArgs + " --llama-cpp " + Quote(dir) + " --llama-cpp-threads 1,0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad thread count '0'"), std::string::npos) << r.err;
}

TEST(LlamaCppCli, ComparesWithTheBestThreadCount) {
  STRATA_REQUIRE_TESTDATA();
  if (!HaveNode()) GTEST_SKIP() << "node not on PATH";
  const std::string dir = FakeInstall("fake", kFakeBench);
  auto r = Strata("bench -m " + Model("q8_0") + kArgs + " --llama-cpp " + Quote(dir));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["llama_version"], "fake 1");
  EXPECT_EQ(j["llama_threads_pp"], 2);
  EXPECT_EQ(j["llama_threads_tg"], 1);
  EXPECT_DOUBLE_EQ(j["llama_pp_tps"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(j["llama_tg_tps"].get<double>(), 10);
  EXPECT_NEAR(j["pp_ratio"].get<double>(), j["pp_tps"].get<double>() / 200, 1e-9);
  EXPECT_NEAR(j["tg_ratio"].get<double>(), j["tg_tps"].get<double>() / 10, 1e-9);
  EXPECT_EQ(j["llama_runs"].size(), 2u);

  auto text = Strata("bench -m " + Model("q8_0") + " -p 16 -n 4 -t 1 --llama-cpp " + Quote(dir));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("llama.cpp fake 1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(llama.cpp at 2 threads)"), std::string::npos) << text.out;
}

TEST(LlamaCppCli, FailingRunnerKeepsStrataFiguresAndFails) {
  STRATA_REQUIRE_TESTDATA();
  if (!HaveNode()) GTEST_SKIP() << "node not on PATH";
  const std::string dir = FakeInstall("failing", "console.error('cannot load the model'); process.exit(3);\n");
  auto r = Strata("bench -m " + Model("q8_0") + kArgs + " --llama-cpp " + Quote(dir));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot load the model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exited with 3"), std::string::npos) << r.err;
  const json j = json::parse(r.out);
  EXPECT_GT(j["tg_tps"].get<double>(), 0);
  EXPECT_TRUE(j.contains("llama_error"));
  EXPECT_FALSE(j.contains("tg_ratio"));
}

}  // namespace
}  // namespace strata::testing
