// The `strata` binary end to end: generation against the goldens, tokenize/info/plan output, and bad model
// files that must give a clear error and a non-zero exit (never a crash or a sanitizer report).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "testdata.h"

namespace strata::testing {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void ExpectNoSanitizerReport(const CommandResult& r) {
  EXPECT_EQ(r.err.find("AddressSanitizer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << r.err;
}

TEST(Cli, HelpOnEveryCommand) {
  for (const char* sub : {"", "run ", "tokenize ", "info ", "plan ", "serve ", "bench serve ", "gen-model "}) {
    auto r = Strata(std::string(sub) + "--help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << sub << r.out;
  }
}

class CliGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CliGolden, RunStreamsTheGreedyContinuation) {
  STRATA_REQUIRE_TESTDATA();
  std::ifstream in(testing::TestDataPath("golden/tiny-llama-" + GetParam() + ".json"));
  const auto golden = nlohmann::json::parse(in);
  const bool exact = GetParam() == "f32" || GetParam() == "f16";
  for (size_t i : {1u, 2u, 4u}) {
    const auto& c = golden["cases"][i];
    auto r = Strata("run -m " + Model(GetParam()) + " -p " + Quote(c["prompt"]) + " -n 32 --temp 0 --ignore-eos -t 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectNoSanitizerReport(r);
    std::string text = r.out;
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(text.back(), '\n');
    text.pop_back();
    if (!text.empty() && text[0] == ' ') text.erase(0, 1);  // the reference decode drops the first leading space
    const std::string want = c[exact ? "greedy_text" : "greedy_stable_text"];
    if (exact)
      EXPECT_EQ(text, want) << c["prompt"];
    else
      EXPECT_EQ(text.substr(0, want.size()), want) << c["prompt"];
    EXPECT_NE(r.err.find("tok/s"), std::string::npos) << "timings go to stderr";
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, CliGolden, ::testing::Values("f32", "f16", "q8_0", "q4_0"));

TEST(Cli, TokenizePrintsIdsAsJson) {
  STRATA_REQUIRE_TESTDATA();
  const std::string vocab = testing::TestDataPath("tokenizer/llama2-vocab.gguf");
  auto r = Strata("tokenize -m " + vocab + " 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse("[1, 15043, 3186]"));
  r = Strata("tokenize -m " + vocab + " --no-bos --pieces 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["id"], 15043);
  EXPECT_EQ(j[0]["piece"], "\xe2\x96\x81Hello");
}

TEST(Cli, InfoAndPlanDescribeTheModel) {
  STRATA_REQUIRE_TESTDATA();
  auto r = Strata("info -m " + Model("q4_0"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("llama.block_count"), std::string::npos);
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(r.out.find("q4_0"), std::string::npos);
  r = Strata("plan -m " + Model("q4_0"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("attention"), std::string::npos);
  EXPECT_NE(r.out.find("weight=output.weight q4_0 [1024, 192]"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("loading"), std::string::npos) << "load progress is shown";
}

// ---- bad model files, each made here from a shared model --------------------------------------------------

void PutU64(std::string& bytes, size_t pos, uint64_t v) { std::memcpy(&bytes[pos], &v, 8); }
void PutU32(std::string& bytes, size_t pos, uint32_t v) { std::memcpy(&bytes[pos], &v, 4); }

// Byte position just after a GGUF string (u64 length + bytes) equal to `s` in the header.
size_t After(const std::string& bytes, const std::string& s) {
  std::string needle(8, '\0');
  const uint64_t n = s.size();
  std::memcpy(needle.data(), &n, 8);
  needle += s;
  const size_t pos = bytes.find(needle);
  EXPECT_NE(pos, std::string::npos) << s;
  return pos + needle.size();
}

struct BadFile {
  std::string name;
  std::string expect;  // a fragment the error message must contain
  std::string bytes;
};

std::vector<BadFile> MakeBadFiles() {
  const std::string good = ReadFile(Model("f32"));
  std::vector<BadFile> bad;
  bad.push_back({"truncated-header", "", good.substr(0, 20)});
  bad.push_back({"truncated-metadata", "", good.substr(0, 1000)});
  bad.push_back({"truncated-data", "", good.substr(0, good.size() / 2)});
  {
    std::string b = good;
    b[3] = 'X';
    bad.push_back({"wrong-magic", "magic", b});
  }
  {
    std::string b = good;
    PutU64(b, 8, uint64_t{1} << 60);
    bad.push_back({"absurd-tensor-count", "tensor", b});
  }
  {
    std::string b = good;
    PutU64(b, 24, uint64_t{1} << 62);
    bad.push_back({"absurd-string-length", "length", b});
  }
  {
    std::string b = good;
    // The last tensor info: name, n_dims, 2 dims, type, then the offset.
    const size_t type_pos = After(b, "output.weight") + 4 + 16;
    PutU64(b, type_pos + 4, good.size());
    bad.push_back({"offset-past-end", "output.weight", b});
  }
  {
    std::string b = good;
    PutU32(b, After(b, "output.weight") + 4 + 16, 20);  // iq4_nl: a ggml type Strata does not compute
    bad.push_back({"unsupported-dtype", "iq4_nl", b});
  }
  {
    std::string b = good;
    PutU32(b, After(b, "output.weight") + 4 + 16, 99);  // not a ggml type at all
    bad.push_back({"unknown-dtype", "99", b});
  }
  {
    std::string b = good;
    const size_t value = After(b, "general.architecture") + 4 + 8;  // type, then the string length
    b.replace(value, 5, "gemmx");
    bad.push_back({"unknown-architecture", "gemmx", b});
  }
  return bad;
}

TEST(Cli, BadModelFilesGiveAClearErrorAndNonZeroExit) {
  STRATA_REQUIRE_TESTDATA();
  for (const BadFile& f : MakeBadFiles()) {
    const std::string path = testing::ScratchDir() + "/" + f.name + ".gguf";
    WriteFile(path, f.bytes);
    auto r = Strata("run -m " + path + " -p hi -n 2");
    EXPECT_EQ(r.exit_code, 1) << f.name << ": " << r.err;
    ExpectNoSanitizerReport(r);
    EXPECT_NE(r.err.find("error"), std::string::npos) << f.name << ": " << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << f.name << " names the file: " << r.err;
    EXPECT_NE(r.err.find(f.expect), std::string::npos) << f.name << " should mention '" << f.expect << "': " << r.err;
    EXPECT_TRUE(r.out.empty()) << f.name;
  }
}

TEST(Cli, InfoFailsOnAnInvalidFile) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::ScratchDir() + "/info-truncated.gguf";
  WriteFile(path, ReadFile(Model("q8_0")).substr(0, 4000));
  auto r = Strata("info -m " + path);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  auto missing = Strata("info -m " + testing::ScratchDir() + "/does-not-exist.gguf");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
}

TEST(Cli, OverlongPromptIsAnError) {
  STRATA_REQUIRE_TESTDATA();
  auto r = Strata("run -m " + Model("q4_0") + " -c 8 -n 4 -p 'this prompt has more than eight tokens in it for sure'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context length 8"), std::string::npos) << r.err;
}

TEST(Cli, ServeRejectsBadSettingsWithAClearError) {
  STRATA_REQUIRE_TESTDATA();
  auto small = Strata("serve -m " + Model("q8_0") + " --port 0 --kv-cache-memory 1000");
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.err.find("less than one full context"), std::string::npos) << small.err;
  auto long_ctx = Strata("serve -m " + Model("q8_0") + " --port 0 --max-model-len 100000");
  EXPECT_EQ(long_ctx.exit_code, 1);
  EXPECT_NE(long_ctx.err.find("exceeds the model's context length 256"), std::string::npos) << long_ctx.err;
  auto bad_host = Strata("serve -m " + Model("q8_0") + " --host 203.0.113.7 --port 1");
  EXPECT_EQ(bad_host.exit_code, 1);
  EXPECT_NE(bad_host.err.find("cannot listen on 203.0.113.7:1"), std::string::npos) << bad_host.err;
  ExpectNoSanitizerReport(bad_host);
}

TEST(Cli, BenchServeWithoutAServerIsAnError) {
  auto r = Strata("bench serve --port 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no server answering"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
