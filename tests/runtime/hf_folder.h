// Helpers of the Hugging Face folder tests: writing a folder with tests/model/make_hf_folder.py (numpy and
// torch, not Strata), and running a model to logits and greedy tokens.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compiler/pass_manager.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata::testing {

// Writes the folder of `gguf` (a shared model file name) as `dtype` in `shards` files under the scratch dir;
// "" on success, else why the test must skip (python3, numpy or torch missing) or fail ("error: ...").
// A dtype "f16+f32" writes 2-D tensors f16 and 1-D ones (norms) f32, as GGUF files hold them.
inline std::string MakeHfFolder(const std::string& gguf, std::string dtype, int shards, std::string& dir) {
  dir = ScratchDir() + "/hf-" + gguf + "-" + dtype + "-" + std::to_string(shards);
  const bool norms_f32 = dtype.ends_with("+f32");
  if (norms_f32) dtype.resize(dtype.size() - 4);
  if (std::filesystem::exists(dir + "/config.json")) return "";
  if (!std::filesystem::exists("/usr/bin/python3")) return "/usr/bin/python3 is missing";
  const std::string cmd = "/usr/bin/python3 " STRATA_SOURCE_DIR "/tests/model/make_hf_folder.py " +
                          TestDataPath("models/" + gguf) + " " + dir + " --dtype " + dtype + " --shards " +
                          std::to_string(shards) + (norms_f32 ? " --norms-f32" : "");
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) return "python3-numpy or python3-torch is missing";
  if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) return "error: " + cmd + " failed";
  return "";
}

#define STRATA_MAKE_HF_FOLDER(gguf, dtype, shards, dir)                          \
  do {                                                                           \
    STRATA_REQUIRE_TESTDATA();                                                   \
    const std::string why = ::strata::testing::MakeHfFolder(gguf, dtype, shards, dir); \
    if (why.starts_with("error")) FAIL() << why;                                 \
    if (!why.empty()) GTEST_SKIP() << why;                                       \
  } while (0)

// Loaded without a tokenizer: these tests compare weights, by token ids.
inline std::unique_ptr<::strata::Model> LoadIdsOnly(const std::string& path) {
  auto m = Model::Load(path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

inline ir::Plan CompileDefault(const ::strata::Model& m) {
  auto plans = ir::Compile(m, {.passes = ir::DefaultPasses()});
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  return plans.ok() ? std::move(plans->front()) : ir::Plan{};
}

// Logits at every position of `ids`.
inline std::vector<float> AllLogits(const ::strata::Model& m, const std::vector<int32_t>& ids) {
  const ir::Plan plan = CompileDefault(m);
  ThreadPool pool(2);
  CpuExecutor exec(plan, pool);
  auto logits = exec.Forward(ids, true);
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  if (!logits.ok()) return {};
  return std::vector<float>(logits->data, logits->data + logits->rows * logits->n_vocab);
}

// `n` greedy tokens after `ids` (the lowest id among equal logits).
inline std::vector<int32_t> Greedy(const ::strata::Model& m, const std::vector<int32_t>& ids, int n) {
  const ir::Plan plan = CompileDefault(m);
  ThreadPool pool(2);
  CpuExecutor exec(plan, pool);
  std::vector<int32_t> out;
  auto logits = exec.Forward(ids, false);
  for (int i = 0; i < n && logits.ok(); ++i) {
    const float* l = logits->last();
    out.push_back(static_cast<int32_t>(std::max_element(l, l + logits->n_vocab) - l));
    const int32_t one[1] = {out.back()};
    logits = exec.Forward(one, false);
  }
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  return out;
}

}  // namespace strata::testing
