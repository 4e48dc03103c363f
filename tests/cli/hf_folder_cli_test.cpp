// `strata plan|info|convert` on a Hugging Face folder written by numpy/torch (tests/model/make_hf_folder.py):
// the folder and the GGUF of the same weights print the same plan; convert writes a file that plans like the
// shared GGUF of the same type.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "runtime/hf_folder.h"

namespace strata::testing {
namespace {

TEST(HfFolderCli, PlanOfTheFolderEqualsPlanOfTheGguf) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 2, dir);
  for (const std::string flags : {"", " --tp 2", " --passes none"}) {
    auto folder = Strata("plan -m " + Quote(dir) + flags);
    auto gguf = Strata("plan -m " + Model("f32") + flags);
    ASSERT_EQ(folder.exit_code, 0) << folder.err;
    ASSERT_EQ(gguf.exit_code, 0) << gguf.err;
    EXPECT_EQ(folder.out, gguf.out) << flags;
  }
}

TEST(HfFolderCli, InfoShowsTheSafetensorsTableAndConfig) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 2, dir);
  auto r = Strata("info -m " + Quote(dir));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("LlamaForCausalLM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model.layers.3.self_attn.q_proj.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("39 tensors in 2 files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("llama: vocab 1024, dim 192, layers 4"), std::string::npos) << r.out;
}

TEST(HfFolderCli, ConvertWritesAGgufThatPlansLikeTheSharedOne) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  const std::string out = ScratchDir() + "/cli-q8_0.gguf";
  auto r = Strata("convert " + Quote(dir) + " -o " + Quote(out) + " --dtype q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("converting: 100%"), std::string::npos) << r.err;
  EXPECT_EQ(Strata("plan -m " + Quote(out)).out, Strata("plan -m " + Model("q8_0")).out);
  auto bad = Strata("convert " + Quote(dir) + " -o " + Quote(out) + " --dtype q9_9");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown --dtype 'q9_9'"), std::string::npos) << bad.err;
  auto not_folder = Strata("convert " + Model("f32") + " -o " + Quote(out));
  EXPECT_NE(not_folder.exit_code, 0);
  EXPECT_NE(not_folder.err.find("is not a folder"), std::string::npos) << not_folder.err;
}

}  // namespace
}  // namespace strata::testing
