// Each pattern is the Split regex of the family's tokenizer.json (Meta-Llama-3, Qwen2/2.5/3, DeepSeek-V3) or
// GPT-2's own (OpenAI's encoder.py, as tiktoken's r50k_base). PCRE2 runs them unchanged; llama.cpp rewrites
// some of them for its own regex engine, which is why these are taken from the Hugging Face side.
#include "model/bpe_presets.h"

#include <string>

namespace strata {
namespace {

constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDeepseekV3Digits = R"(\p{N}{1,3})";
constexpr std::string_view kDeepseekV3Cjk = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+";
constexpr std::string_view kDeepseekV3Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Status AddSplits(BpePreset& p, std::initializer_list<std::string_view> patterns) {
  for (std::string_view pattern : patterns) {
    STRATA_ASSIGN_OR_RETURN(PreTokenizerStep step, SplitStep(pattern, true, SplitBehavior::kIsolated, false));
    p.pre_tokenizers.push_back(std::move(step));
  }
  STRATA_ASSIGN_OR_RETURN(PreTokenizerStep byte_level, ByteLevelStep(false, false));
  p.pre_tokenizers.push_back(std::move(byte_level));
  return Status::Ok();
}

}  // namespace

Result<BpePreset> BpePresetFor(std::string_view pre) {
  BpePreset p;
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    STRATA_RETURN_IF_ERROR(AddSplits(p, {kLlama3}));
    p.ignore_merges = true;
    p.add_bos = true;
  } else if (pre == "qwen2") {
    p.normalizers.push_back({NormalizerStep::Kind::kNfc, nullptr, {}});
    STRATA_RETURN_IF_ERROR(AddSplits(p, {kQwen2}));
  } else if (pre == "deepseek-v3") {
    STRATA_RETURN_IF_ERROR(AddSplits(p, {kDeepseekV3Digits, kDeepseekV3Cjk, kDeepseekV3Words}));
  } else if (pre == "gpt-2") {
    STRATA_ASSIGN_OR_RETURN(PreTokenizerStep byte_level, ByteLevelStep(false, true));
    p.pre_tokenizers.push_back(std::move(byte_level));
  } else {
    return Status::Unsupported("BPE pre-tokenizer '" + std::string(pre) +
                               "' (tokenizer.ggml.pre) is not supported; Strata supports llama-bpe, qwen2, "
                               "deepseek-v3 and gpt-2");
  }
  return p;
}

}  // namespace strata
