// `strata convert` (ConvertHfFolderToGguf) on a folder written by numpy/torch from a shared GGUF: the output
// holds the original GGUF's tensors byte for byte (q/k permuted back), its vocabulary, and tokenizes as
// sentencepiece does; quantized output equals the shared file quantized by the independent Python quantizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hf_folder.h"
#include "model/gguf.h"
#include "model/hf_convert.h"
#include "model/hf_vocab.h"

namespace strata {
namespace {

const std::vector<int32_t> kPrompt = {1, 15, 300, 42, 77, 900, 5, 600, 1023, 3};

std::string Convert(const std::string& dir, const std::string& name, std::optional<DType> dtype) {
  const std::string out = testing::ScratchDir() + "/" + name;
  const Status st = ConvertHfFolderToGguf(dir, out, {.dtype = dtype});
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// Every tensor of `want` is in `got` with the same type, shape and bytes.
void ExpectSameTensors(const GgufFile& got, const GgufFile& want) {
  EXPECT_EQ(got.tensors().size(), want.tensors().size());
  for (const GgufTensorInfo& w : want.tensors()) {
    const GgufTensorInfo* g = got.FindTensor(w.name);
    ASSERT_NE(g, nullptr) << w.name;
    EXPECT_EQ(g->ggml_type, w.ggml_type) << w.name;
    ASSERT_EQ(g->Shape(), w.Shape()) << w.name;
    auto a = got.TensorView(*g), b = want.TensorView(w);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(std::memcmp(a->data(), b->data(), static_cast<size_t>(b->nbytes())), 0) << w.name << " differs";
  }
}

TEST(HfConvert, F32FolderConvertsBackToTheOriginalGguf) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 2, dir);
  const std::string out = Convert(dir, "tiny-f32.gguf", std::nullopt);
  auto got = GgufFile::Open(out);
  auto want = GgufFile::Open(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(got.ok() && want.ok()) << got.status().ToString();
  ExpectSameTensors(**got, **want);
  for (const char* key : {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                          "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.chat_template",
                          "llama.context_length", "llama.rope.freq_base", "llama.attention.head_count_kv"}) {
    ASSERT_NE((*got)->Find(key), nullptr) << key;
    ASSERT_NE((*want)->Find(key), nullptr) << key;
    EXPECT_EQ((*got)->Find(key)->ToString(100000), (*want)->Find(key)->ToString(100000)) << key;
  }
  EXPECT_EQ(*(*got)->GetString("general.architecture"), "llama");
}

// Scores come from tokenizer.json's merge ranks, not from the sentencepiece model: the converted vocabulary
// must still tokenize every shared vector exactly as sentencepiece did.
TEST(HfConvert, ConvertedVocabularyTokenizesAsSentencepiece) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  auto model = Model::Load(Convert(dir, "tiny-vocab.gguf", DType::kQ8_0));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::ifstream in(testing::TestDataPath("tokenizer/tiny-llama.json"));
  const auto vectors = nlohmann::json::parse(in);
  int n = 0;
  for (const auto& c : vectors["cases"]) {
    EXPECT_EQ((*model)->tokenizer().Encode(c["text"].get<std::string>(), false), c["ids"].get<std::vector<int32_t>>())
        << c["text"];
    ++n;
  }
  EXPECT_GT(n, 50);
  EXPECT_TRUE((*model)->tokenizer().add_bos());
}

TEST(HfConvert, Q8_0EqualsTheSharedFileQuantizedByPython) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  auto got = GgufFile::Open(Convert(dir, "tiny-q8_0.gguf", DType::kQ8_0));
  auto want = GgufFile::Open(testing::TestDataPath("models/tiny-llama-q8_0.gguf"));
  ASSERT_TRUE(got.ok() && want.ok());
  ExpectSameTensors(**got, **want);
}

TEST(HfConvert, Bf16StaysBf16AndComputesWhatTheFolderComputes) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "bf16", 1, dir);
  auto folder = testing::LoadIdsOnly(dir);
  auto gguf = testing::LoadIdsOnly(Convert(dir, "tiny-bf16.gguf", std::nullopt));
  ASSERT_TRUE(folder && gguf);
  EXPECT_EQ((**gguf->Weight("blk.1.ffn_up.weight")).dtype(), DType::kBF16);
  EXPECT_TRUE(testing::AllLogits(*folder, kPrompt) == testing::AllLogits(*gguf, kPrompt));
}

TEST(HfConvert, KQuantFallsBackWhereRowsDontFillItsBlocks) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  std::vector<std::string> notes;
  const std::string out = testing::ScratchDir() + "/tiny-q4_k.gguf";
  ASSERT_TRUE(ConvertHfFolderToGguf(dir, out, {.dtype = DType::kQ4_K,
                                               .note = [&](const std::string& m) { notes.push_back(m); }}).ok());
  auto m = testing::LoadIdsOnly(out);
  ASSERT_TRUE(m);
  EXPECT_EQ((**m->Weight("blk.0.ffn_down.weight")).dtype(), DType::kQ4_K);  // rows of 512
  EXPECT_EQ((**m->Weight("blk.0.ffn_up.weight")).dtype(), DType::kQ8_0);    // rows of 192
  EXPECT_EQ((**m->Weight("blk.0.ffn_norm.weight")).dtype(), DType::kF32);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("q8_0"), std::string::npos) << notes[0];
  auto f32 = testing::LoadIdsOnly(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  EXPECT_EQ(testing::Greedy(*m, kPrompt, 1), testing::Greedy(*f32, kPrompt, 1));
}

TEST(HfConvert, FailuresAreCleanErrors) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  EXPECT_EQ(ParseConvertDType("q9_9").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(*ParseConvertDType("q4_k"), DType::kQ4_K);
  const std::string missing_dir = testing::ScratchDir() + "/no/such/dir/x.gguf";
  EXPECT_FALSE(ConvertHfFolderToGguf(dir, missing_dir, {}).ok());
  EXPECT_FALSE(std::filesystem::exists(missing_dir + ".tmp"));
  EXPECT_EQ(ConvertHfFolderToGguf(testing::TestDataPath("models/tiny-llama-f32.gguf"), missing_dir, {}).code(),
            Status::Code::kInvalidArgument);
  // A WordPiece tokenizer cannot be converted: named, nothing written.
  const std::string wp = testing::ScratchDir() + "/hf-wordpiece";
  std::filesystem::remove_all(wp);
  std::filesystem::copy(dir, wp);
  std::ofstream(wp + "/tokenizer.json") << R"({"model": {"type": "WordPiece", "vocab": {}}})";
  const Status st = ConvertHfFolderToGguf(wp, wp + "/out.gguf", {});
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("WordPiece"), std::string::npos) << st.message();
  EXPECT_FALSE(std::filesystem::exists(wp + "/out.gguf"));
}

// The vocabulary `convert` writes for the shared byte-level tokenizers equals their vocab.gguf, which follows
// convert_hf_to_gguf.py rule by rule (and whose llama3 tokens, types and merges equal llama.cpp's own
// ggml-vocab-llama-bpe.gguf).
TEST(HfConvert, ByteLevelVocabulariesMatchTheSharedVocabGguf) {
  STRATA_REQUIRE_TESTDATA();
  const std::pair<const char*, int64_t> cases[] = {{"llama3", 128256}, {"qwen3", 151936}, {"deepseek_v3", 129280}};
  for (const auto& [name, n_vocab] : cases) {
    const std::string src = testing::TestDataPath(std::string("tokenizer-hf/") + name);
    const std::string dir = testing::ScratchDir() + "/vocab-" + name;
    std::filesystem::create_directories(dir);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      std::filesystem::copy_file(src + "/" + f, dir + "/" + f, std::filesystem::copy_options::overwrite_existing);
    std::ofstream(dir + "/config.json")
        << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64, "vocab_size": )"
        << n_vocab << (std::string(name) == "qwen3" ? R"(, "bos_token_id": 151643})" : "}");
    auto got = HfVocabMetadata(dir, n_vocab);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    auto want = GgufFile::Open(src + "/vocab.gguf");
    ASSERT_TRUE(want.ok());
    int compared = 0;
    for (const auto& [key_binding, value] : (*want)->metadata()) {
      const std::string& key = key_binding;  // a lambda may not capture a structured binding (C++20, clang 14)
      if (!key.starts_with("tokenizer.")) continue;
      auto it = std::find_if(got->begin(), got->end(), [&](const auto& kv) { return kv.first == key; });
      ASSERT_NE(it, got->end()) << name << ": " << key << " is missing";
      EXPECT_EQ(it->second.ToString(1u << 20), value.ToString(1u << 20)) << name << ": " << key;
      ++compared;
    }
    EXPECT_GE(compared, 8) << name;
  }
}

}  // namespace
}  // namespace strata
