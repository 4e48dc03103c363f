// The first run (cli/guide.h): `strata` alone prints what to do, a missing --model says where models come from,
// and a model path that does not load gets an error naming it and what to try; on a terminal, loading draws a
// progress bar.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_runner.h"
#include "testdata.h"

namespace strata::testing {
namespace {

bool Contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

std::string FreshDir(const std::string& name) {
  const std::string dir = ScratchDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Guide, NoArgumentsPrintsWhatToDo) {
  const auto r = Strata("");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"GGUF", "Hugging Face", "strata gen-model --shape llama-tiny", "strata chat -m MODEL", "strata run -m MODEL",
                           "strata serve -m MODEL", "strata COMMAND --help"})
    EXPECT_TRUE(Contains(r.out, line)) << line << "\n" << r.out;
}

TEST(Guide, MissingModelSaysWhereModelsComeFrom) {
  for (const char* cmd : {"run -p hi", "info", "plan"}) {
    const auto r = Strata(cmd);
    EXPECT_NE(r.exit_code, 0) << cmd;
    EXPECT_TRUE(Contains(r.err, "--model is required")) << cmd << "\n" << r.err;
    EXPECT_TRUE(Contains(r.err, "strata gen-model")) << cmd << "\n" << r.err;
  }
  // other usage errors keep CLI11's message alone
  const auto r = Strata("run -m x.gguf -p hi -n nope");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(Contains(r.err, "strata gen-model")) << r.err;
}

TEST(Guide, AMissingPathIsNamedWithWhatToTry) {
  const auto r = Strata("run -m /no/such/model.gguf -p hi");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "/no/such/model.gguf")) << r.err;
  EXPECT_TRUE(Contains(r.err, "check the path")) << r.err;
}

TEST(Guide, AFolderWithoutAModelSaysWhatOneHolds) {
  const std::string dir = FreshDir("guide-empty");
  const auto r = Strata("run -p hi -m " + Quote(dir));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, dir)) << r.err;
  EXPECT_TRUE(Contains(r.err, "holds config.json, *.safetensors and tokenizer.json")) << r.err;  // the hint's
  EXPECT_TRUE(Contains(r.err, "or pass a .gguf file")) << r.err;
}

TEST(Guide, AFolderOfGgufFilesListsThem) {
  const std::string dir = FreshDir("guide-ggufs");
  for (const char* name : {"b-Q8_0.gguf", "a-Q4_K_M.gguf"}) std::ofstream(dir + "/" + name) << "GGUF";
  std::ofstream(dir + "/README.md") << "not a model";
  const auto r = Strata("run -p hi -m " + Quote(dir));
  EXPECT_NE(r.exit_code, 0);
  const size_t a = r.err.find(dir + "/a-Q4_K_M.gguf"), b = r.err.find(dir + "/b-Q8_0.gguf");
  EXPECT_NE(a, std::string::npos) << r.err;
  EXPECT_NE(b, std::string::npos) << r.err;
  EXPECT_LT(a, b) << "sorted";
  EXPECT_FALSE(Contains(r.err, "README.md")) << r.err;
}

TEST(Guide, AFileThatIsNotGgufSaysSo) {
  const std::string file = FreshDir("guide-text") + "/model.gguf";
  std::ofstream(file) << "<html>a download page saved instead of the model</html>";
  for (const char* cmd : {"run -p hi", "info"}) {
    const auto r = Strata(std::string(cmd) + " -m " + Quote(file));
    EXPECT_NE(r.exit_code, 0) << cmd;
    EXPECT_TRUE(Contains(r.err, file)) << cmd << "\n" << r.err;
    EXPECT_TRUE(Contains(r.err, "is not a GGUF file (it does not start with 'GGUF')")) << cmd << "\n" << r.err;
  }
}
// A GGUF holding only general.architecture = "mamba9": the error names the file, the architecture and the ones
// Strata supports.
TEST(Guide, AnUnsupportedArchitectureNamesFileAndTheSupportedOnes) {
  const std::string file = FreshDir("guide-arch") + "/mamba9.gguf";
  std::ofstream out(file, std::ios::binary);
  const auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  const auto u64 = [&](uint64_t v) { out.write(reinterpret_cast<const char*>(&v), 8); };
  const auto str = [&](const std::string& s) { u64(s.size()), out.write(s.data(), static_cast<std::streamsize>(s.size())); };
  out.write("GGUF", 4);
  u32(3), u64(0), u64(1);  // version, tensors, keys
  str("general.architecture"), u32(8), str("mamba9");  // type 8: string
  out.close();
  const auto r = Strata("run -p hi -m " + Quote(file));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, file)) << r.err;
  EXPECT_TRUE(Contains(r.err, "mamba9")) << r.err;
  EXPECT_TRUE(Contains(r.err, "llama")) << r.err;
}

// Loading on a terminal draws a bar (through `script`, which gives the command a pseudo-terminal); without one,
// log lines.
TEST(Guide, LoadingDrawsABarOnATerminalAndLogLinesOtherwise) {
  STRATA_REQUIRE_TESTDATA();
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no `script` (bsdutils)";
  const std::string model = Model("q8_0");
  const std::string args = " run -p hi -n 1 -m " + Quote(model);
  const auto tty = Shell("script -qec " + Quote(Quote(StrataBinary()) + args) + " /dev/null");
  EXPECT_EQ(tty.exit_code, 0) << tty.out << tty.err;
  EXPECT_TRUE(Contains(tty.out, "[########################] 100%")) << tty.out;
  const auto plain = Strata(args);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(Contains(plain.err, "#####")) << plain.err;
  EXPECT_TRUE(Contains(plain.err, "100%")) << plain.err;
}

}  // namespace
}  // namespace strata::testing
