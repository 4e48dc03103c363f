// CreateTokenizer: reads a GGUF file's tokenizer.ggml.* metadata (untrusted: every key's presence, type and
// length is checked) and builds the tokenizer its tokenizer.ggml.model names.
#include "model/tokenizer.h"

#include <string>
#include <string_view>
#include <utility>

#include "model/bpe_presets.h"
#include "model/bpe_tokenizer.h"
#include "model/gguf.h"
#include "model/spm_tokenizer.h"

namespace strata {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";
constexpr std::string_view kMergesKey = "tokenizer.ggml.merges";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";

Status BadKey(const GgufFile& g, std::string_view key, const std::string& what) {
  return Status::Corrupt(g.path() + ": tokenizer metadata '" + std::string(key) + "' " + what);
}

Result<const GgufArray*> GetArray(const GgufFile& g, std::string_view key) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr)
    return BadKey(g, key, "is missing (a \"llama\" vocabulary needs tokenizer.ggml.tokens, .scores and .token_type; "
                          "a \"gpt2\" one tokens, .token_type and .merges)");
  const GgufArray* a = v->AsArray();
  if (a == nullptr) return BadKey(g, key, std::string("is a ") + GgufTypeName(v->type) + ", expected an array");
  return a;
}

Status ItemError(const GgufFile& g, std::string_view key, size_t i, const Status& st) {
  return Status::Corrupt(g.path() + ": tokenizer metadata '" + std::string(key) + "' item " + std::to_string(i) +
                         ": " + st.message());
}

// An optional token id: absent -> `fallback`; -1 (or 0xFFFFFFFF, llama.cpp's "none") -> -1; otherwise its value
// (range-checked against the vocabulary by CreateSpmTokenizer).
Result<int32_t> GetId(const GgufFile& g, std::string_view key, int32_t fallback) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return fallback;
  const Result<int64_t> x = v->AsInt();
  if (!x.ok()) return BadKey(g, key, x.status().message());
  if (*x == -1 || *x == 0xFFFFFFFFLL) return -1;
  if (*x < 0 || *x > 0x7FFFFFFF) return BadKey(g, key, "is " + std::to_string(*x) + ", not a token id");
  return static_cast<int32_t>(*x);
}

Result<bool> GetFlag(const GgufFile& g, std::string_view key, bool fallback) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return fallback;
  const Result<bool> b = v->AsBool();
  if (!b.ok()) return BadKey(g, key, b.status().message());
  return *b;
}

Result<SpmVocab> ReadSpmVocab(const GgufFile& g) {
  STRATA_ASSIGN_OR_RETURN(const GgufArray* tokens, GetArray(g, kTokensKey));
  STRATA_ASSIGN_OR_RETURN(const GgufArray* scores, GetArray(g, kScoresKey));
  STRATA_ASSIGN_OR_RETURN(const GgufArray* types, GetArray(g, kTypesKey));
  const size_t n = tokens->items.size();
  if (n == 0) return BadKey(g, kTokensKey, "is empty");
  if (scores->items.size() != n)
    return BadKey(g, kScoresKey, "has " + std::to_string(scores->items.size()) + " entries but " +
                                     std::string(kTokensKey) + " has " + std::to_string(n));
  if (types->items.size() != n)
    return BadKey(g, kTypesKey, "has " + std::to_string(types->items.size()) + " entries but " +
                                    std::string(kTokensKey) + " has " + std::to_string(n));

  SpmVocab v;
  v.pieces.reserve(n);
  v.scores.reserve(n);
  v.types.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Result<std::string> piece = tokens->items[i].AsString();
    if (!piece.ok()) return ItemError(g, kTokensKey, i, piece.status());
    v.pieces.push_back(std::move(piece).value());

    const Result<double> score = scores->items[i].AsFloat();
    if (!score.ok()) return ItemError(g, kScoresKey, i, score.status());
    v.scores.push_back(static_cast<float>(*score));

    const Result<int64_t> type = types->items[i].AsInt();
    if (!type.ok()) return ItemError(g, kTypesKey, i, type.status());
    if (*type < static_cast<int64_t>(TokenType::kUndefined) || *type > static_cast<int64_t>(TokenType::kByte))
      return ItemError(g, kTypesKey, i,
                       Status::Corrupt("token type " + std::to_string(*type) + " is not one of 0..6"));
    v.types.push_back(static_cast<TokenType>(*type));
  }

  // Defaults as llama.cpp's for SentencePiece vocabularies: <s> = 1, </s> = 2; <unk> is the unknown-type token.
  int32_t default_unk = -1;
  for (size_t i = 0; i < n && default_unk < 0; ++i)
    if (v.types[i] == TokenType::kUnknown) default_unk = static_cast<int32_t>(i);
  STRATA_ASSIGN_OR_RETURN(v.bos_id, GetId(g, "tokenizer.ggml.bos_token_id", n > 1 ? 1 : -1));
  STRATA_ASSIGN_OR_RETURN(v.eos_id, GetId(g, "tokenizer.ggml.eos_token_id", n > 2 ? 2 : -1));
  STRATA_ASSIGN_OR_RETURN(v.unk_id, GetId(g, "tokenizer.ggml.unknown_token_id", default_unk));
  STRATA_ASSIGN_OR_RETURN(v.add_bos, GetFlag(g, "tokenizer.ggml.add_bos_token", true));
  STRATA_ASSIGN_OR_RETURN(v.add_space_prefix, GetFlag(g, "tokenizer.ggml.add_space_prefix", true));
  STRATA_ASSIGN_OR_RETURN(v.remove_extra_whitespaces, GetFlag(g, "tokenizer.ggml.remove_extra_whitespaces", false));
  return v;
}


Result<std::vector<std::string>> GetStrings(const GgufFile& g, std::string_view key) {
  STRATA_ASSIGN_OR_RETURN(const GgufArray* a, GetArray(g, key));
  std::vector<std::string> out;
  out.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    Result<std::string> s = a->items[i].AsString();
    if (!s.ok()) return ItemError(g, key, i, s.status());
    out.push_back(std::move(s).value());
  }
  return out;
}

// A byte-level BPE ("gpt2") vocabulary: tokens, their types, merges "left right" in rank order, and the
// pre-tokenizer that tokenizer.ggml.pre names. Control and user-defined tokens are matched in the text
// before pre-tokenization, as the added tokens of the model's tokenizer.json are.
Result<BpeTokenizerConfig> ReadBpeConfig(const GgufFile& g) {
  const GgufValue* pre_value = g.Find(kPreKey);
  std::string pre = "(missing)";
  if (pre_value != nullptr) {
    Result<std::string> s = pre_value->AsString();
    if (!s.ok()) return BadKey(g, kPreKey, s.status().message());
    pre = *s;
  }
  Result<BpePreset> found = BpePresetFor(pre);
  if (!found.ok()) return found.status().WithContext(g.path());
  BpePreset preset = std::move(found).value();

  BpeTokenizerConfig c;
  STRATA_ASSIGN_OR_RETURN(c.model.tokens, GetStrings(g, kTokensKey));
  const size_t n = c.model.tokens.size();
  if (n == 0) return BadKey(g, kTokensKey, "is empty");
  STRATA_ASSIGN_OR_RETURN(const GgufArray* types, GetArray(g, kTypesKey));
  if (types->items.size() != n)
    return BadKey(g, kTypesKey, "has " + std::to_string(types->items.size()) + " entries but " +
                                    std::string(kTokensKey) + " has " + std::to_string(n));
  for (size_t i = 0; i < n; ++i) {
    const Result<int64_t> type = types->items[i].AsInt();
    if (!type.ok()) return ItemError(g, kTypesKey, i, type.status());
    if (*type < static_cast<int64_t>(TokenType::kUndefined) || *type > static_cast<int64_t>(TokenType::kByte))
      return ItemError(g, kTypesKey, i, Status::Corrupt("token type " + std::to_string(*type) + " is not one of 0..6"));
    const bool control = *type == static_cast<int64_t>(TokenType::kControl) ||
                         *type == static_cast<int64_t>(TokenType::kUnknown);
    if (control || *type == static_cast<int64_t>(TokenType::kUserDefined))
      c.added.push_back({c.model.tokens[i], static_cast<int32_t>(i), control, false, false, false});
  }
  STRATA_ASSIGN_OR_RETURN(const std::vector<std::string> merges, GetStrings(g, kMergesKey));
  c.model.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t space = merges[i].find(' ', 1);
    if (space == std::string::npos)
      return ItemError(g, kMergesKey, i, Status::Corrupt("'" + merges[i] + "' is not two tokens separated by a space"));
    c.model.merges.emplace_back(merges[i].substr(0, space), merges[i].substr(space + 1));
  }
  c.model.ignore_merges = preset.ignore_merges;
  c.normalizers = std::move(preset.normalizers);
  c.pre_tokenizers = std::move(preset.pre_tokenizers);
  c.decoders.push_back({DecoderStep::Kind::kByteLevel, {}, {}, 0, 0});
  STRATA_ASSIGN_OR_RETURN(c.bos_id, GetId(g, "tokenizer.ggml.bos_token_id", -1));
  STRATA_ASSIGN_OR_RETURN(c.eos_id, GetId(g, "tokenizer.ggml.eos_token_id", -1));
  STRATA_ASSIGN_OR_RETURN(c.model.unk_id, GetId(g, "tokenizer.ggml.unknown_token_id", -1));
  STRATA_ASSIGN_OR_RETURN(c.add_bos, GetFlag(g, "tokenizer.ggml.add_bos_token", preset.add_bos));
  STRATA_ASSIGN_OR_RETURN(c.add_eos, GetFlag(g, "tokenizer.ggml.add_eos_token", false));
  for (const auto& [key, id] : {std::pair{"bos_token_id", c.bos_id}, std::pair{"eos_token_id", c.eos_id},
                                std::pair{"unknown_token_id", c.model.unk_id}})
    if (id >= static_cast<int64_t>(n))
      return BadKey(g, std::string("tokenizer.ggml.") + key, "is " + std::to_string(id) + ", outside the " +
                                                                  std::to_string(n) + "-token vocabulary");
  return c;
}

}  // namespace

std::vector<int32_t> EncodeWithSpecialTokens(const Tokenizer& tok, std::string_view text) {
  std::vector<int32_t> ids = tok.Encode(text, tok.add_bos());
  if (tok.add_eos() && tok.eos_id() >= 0) ids.push_back(tok.eos_id());
  return ids;
}

Result<std::unique_ptr<Tokenizer>> CreateTokenizer(const GgufFile& gguf) {
  const GgufValue* model = gguf.Find(kModelKey);
  if (model == nullptr)
    return Status::NotFound(gguf.path() + ": the file has no tokenizer (metadata key '" + std::string(kModelKey) +
                            "' is missing)");
  const Result<std::string> kind = model->AsString();
  if (!kind.ok()) return BadKey(gguf, kModelKey, kind.status().message());
  if (*kind == "gpt2") {
    Result<BpeTokenizerConfig> config = ReadBpeConfig(gguf);
    if (!config.ok()) return config.status();
    Result<std::unique_ptr<Tokenizer>> tok = CreateBpeTokenizer(std::move(config).value());
    if (!tok.ok()) return tok.status().WithContext(gguf.path());
    return tok;
  }
  if (*kind != "llama")
    return Status::Unsupported(gguf.path() + ": tokenizer kind '" + *kind + "' (" + std::string(kModelKey) +
                               ") is not supported; Strata supports 'llama' (SentencePiece) and 'gpt2' (byte-level BPE)");

  STRATA_ASSIGN_OR_RETURN(SpmVocab vocab, ReadSpmVocab(gguf));
  Result<std::unique_ptr<Tokenizer>> tok = CreateSpmTokenizer(std::move(vocab));
  if (!tok.ok()) return tok.status().WithContext(gguf.path());
  return tok;
}

}  // namespace strata
