#include "model/hf_vocab.h"

#include <cctype>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "model/hf_config.h"
#include "model/hf_tokenizer_config.h"
#include "model/tokenizer.h"

namespace strata {
namespace {

using Json = nlohmann::json;

// The Split regexes of the pre-tokenizers llama.cpp names (llama-vocab.cpp), as tokenizer.json spells them.
const std::vector<std::pair<std::string, std::vector<std::string>>>& KnownPreTokenizers() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kKnown = {
      {"llama-bpe",
       {R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
      {"qwen2",
       {R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
      {"deepseek-v3",
       {R"re(\p{N}{1,3})re", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
        R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^)re"
        "\r\n"
        R"re(\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[)re"
        "\r\n"
        R"re(]*|\s*[)re"
        "\r\n"
        R"re(]+|\s+(?!\S)|\s+)re"}},
  };
  return kKnown;
}

// The components of the tokenizer's pre-tokenizer in order (a Sequence flattened), pointing into `tok`.
std::vector<const Json*> PreTokenizerSteps(const Json& tok) {
  std::vector<const Json*> steps;
  const auto it = tok.find("pre_tokenizer");
  if (it == tok.end() || !it->is_object()) return steps;
  const Json& pre = *it;
  if (pre.value("type", Json()) == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
    for (const Json& p : pre["pretokenizers"])
      if (p.is_object()) steps.push_back(&p);
  } else {
    steps.push_back(&pre);
  }
  return steps;
}

bool IsByteLevel(const Json& tok) {
  for (const Json* step : PreTokenizerSteps(tok))
    if (step->value("type", Json()) == "ByteLevel") return true;
  return false;
}

Result<std::string> PreName(const Json& tok) {
  std::vector<std::string> regexes;
  bool byte_level_regex = false;
  for (const Json* step : PreTokenizerSteps(tok)) {
    const Json type = step->value("type", Json());
    if (type == "ByteLevel") byte_level_regex = step->value("use_regex", Json(true)) == true;
    if (type != "Split") continue;
    const Json pattern = step->value("pattern", Json());
    if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string())
      return Status::Unsupported("a Split pre-tokenizer without a regex: " + step->dump());
    regexes.push_back(pattern["Regex"].get<std::string>());
  }
  if (regexes.empty() && byte_level_regex) return std::string("gpt-2");
  for (const auto& [name, known] : KnownPreTokenizers())
    if (known == regexes) return name;
  Json list = regexes;
  return Status::Unsupported("no llama.cpp pre-tokenizer is known for the regexes " + list.dump());
}

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::map<std::string, int32_t> ids;
};

// Sets token `id_json`; an added token (`added`) overrides the model's text for its id, as the added tokens
// are what the tokenizer matches.
Status AddToken(Vocab& v, const std::string& text, const Json& id_json, int32_t type, bool added = false) {
  if (!id_json.is_number_unsigned() || id_json.get<uint64_t>() >= v.tokens.size())
    return Status::Corrupt("token '" + text + "' has id " + id_json.dump() + ", outside the " +
                           std::to_string(v.tokens.size()) + " embedding rows");
  const auto id = static_cast<int32_t>(id_json.get<uint64_t>());
  if (!added && !v.tokens[static_cast<size_t>(id)].empty() && v.tokens[static_cast<size_t>(id)] != text)
    return Status::Corrupt("id " + std::to_string(id) + " is both '" + v.tokens[static_cast<size_t>(id)] + "' and '" +
                           text + "'");
  v.tokens[static_cast<size_t>(id)] = text;
  v.types[static_cast<size_t>(id)] = type;
  v.ids.emplace(text, id);
  return Status::Ok();
}

// gguf-py's does_token_look_special: added tokens llama.cpp treats as control even when not marked special.
bool LooksSpecial(const std::string& t) {
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || (t.starts_with("<|") && t.ends_with("|>")) ||
         (t.starts_with("<\uFF5C") && t.ends_with("\uFF5C>")) || (t.starts_with("<unused") && t.ends_with(">"));
}

// convert_hf_to_gguf.py writes a user-defined token's "▁" as a space (pre-normalized).
std::string UserDefinedText(std::string t) {
  for (size_t at; (at = t.find("\u2581")) != std::string::npos;) t.replace(at, 3, " ");
  return t;
}

bool IsByteToken(const std::string& t) {
  return t.size() == 6 && t.starts_with("<0x") && t.back() == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

Result<Vocab> ReadVocab(const Json& tok, int64_t n_vocab, bool byte_fallback) {
  Vocab v;
  v.tokens.resize(static_cast<size_t>(n_vocab));
  v.types.assign(static_cast<size_t>(n_vocab), static_cast<int32_t>(TokenType::kUnused));
  const Json& model = tok["model"];
  if (!model.contains("vocab") || !model["vocab"].is_object()) return Status::Corrupt("model.vocab is not an object");
  for (const auto& [text, id] : model["vocab"].items()) {
    const TokenType type = byte_fallback && IsByteToken(text) ? TokenType::kByte : TokenType::kNormal;
    STRATA_RETURN_IF_ERROR(AddToken(v, text, id, static_cast<int32_t>(type)));
  }
  for (const Json& added : tok.value("added_tokens", Json::array())) {
    if (!added.is_object() || !added.contains("content") || !added["content"].is_string())
      return Status::Corrupt("an added_tokens entry has no string content: " + added.dump());
    const std::string text = added["content"].get<std::string>();
    const bool control = added.value("special", Json(false)) == true || LooksSpecial(text);
    const Json id = added.value("id", Json());
    STRATA_RETURN_IF_ERROR(AddToken(v, control ? text : UserDefinedText(text), id,
                                    static_cast<int32_t>(control ? TokenType::kControl : TokenType::kUserDefined), true));
    v.ids.emplace(text, static_cast<int32_t>(id.get<uint64_t>()));  // tokenizer_config.json names it so
  }
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.tokens[i].empty()) v.tokens[i] = "[PAD" + std::to_string(i) + "]";  // as convert_hf_to_gguf.py
  if (model.contains("unk_token") && model["unk_token"].is_string())
    if (auto it = v.ids.find(model["unk_token"].get<std::string>()); it != v.ids.end())
      v.types[static_cast<size_t>(it->second)] = static_cast<int32_t>(TokenType::kUnknown);
  return v;
}

Result<std::vector<std::string>> ReadMerges(const Json& model) {
  std::vector<std::string> merges;
  for (const Json& m : model.value("merges", Json::array())) {
    if (m.is_string()) {
      merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return Status::Corrupt("model.merges holds " + m.dump() + ", not a merge");
    }
  }
  return merges;
}

// SentencePiece-style scores: minus the rank of the first merge producing a piece; pieces no merge makes score
// below every merged one, in id order.
std::vector<float> MergeScores(const Vocab& v, const std::vector<std::string>& merges) {
  std::vector<float> scores(v.tokens.size(), 0.0f);
  std::vector<bool> merged(v.tokens.size(), false);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t space = m.find(' ');
    if (space == std::string::npos) continue;
    auto it = v.ids.find(m.substr(0, space) + m.substr(space + 1));
    if (it == v.ids.end() || merged[static_cast<size_t>(it->second)]) continue;
    merged[static_cast<size_t>(it->second)] = true;
    scores[static_cast<size_t>(it->second)] = -static_cast<float>(rank);
  }
  for (size_t i = 0; i < scores.size(); ++i)
    if (!merged[i] && v.types[i] == static_cast<int32_t>(TokenType::kNormal))
      scores[i] = -static_cast<float>(merges.size() + i);
  return scores;
}

GgufValue StringArray(const std::vector<std::string>& items) {
  GgufArray a{.elem_type = GgufType::kString};
  for (const std::string& s : items) a.items.push_back({.type = GgufType::kString, .v = s});
  return {.type = GgufType::kArray, .v = std::move(a)};
}

template <class T>
GgufValue NumberArray(GgufType type, const std::vector<T>& items) {
  GgufArray a{.elem_type = type};
  for (T x : items) {
    GgufValue item{.type = type};
    if constexpr (std::is_floating_point_v<T>) item.v = static_cast<double>(x);
    else item.v = static_cast<int64_t>(x);
    a.items.push_back(std::move(item));
  }
  return {.type = GgufType::kArray, .v = std::move(a)};
}

GgufValue U32(int64_t v) { return {.type = GgufType::kU32, .v = static_cast<uint64_t>(v)}; }
GgufValue Bool(bool v) { return {.type = GgufType::kBool, .v = v}; }

// A special token's id: tokenizer_config.json names it (a string or {"content": ...}); else config.json's id.
int64_t SpecialId(const Json& tok_config, const char* key, const Vocab& v, int64_t config_id) {
  Json t = tok_config.value(key, Json());
  if (t.is_object()) t = t.value("content", Json());
  if (t.is_string())
    if (auto it = v.ids.find(t.get<std::string>()); it != v.ids.end()) return it->second;
  return config_id;
}

// add_bos/add_eos: tokenizer_config.json's flag, else whether the post-processor's single template starts
// (ends) with that special token, else `fallback` (llama.cpp's default for the vocabulary).
bool AddSpecial(const Json& tok, const Json& tok_config, const char* key, const Vocab& v, int64_t id, bool first,
                bool fallback) {
  if (auto it = tok_config.find(key); it != tok_config.end() && it->is_boolean()) return it->get<bool>();
  const Json post = tok.value("post_processor", Json());
  if (id < 0 || !post.is_object() || post.value("type", Json()) != "TemplateProcessing") return fallback;
  const Json single = post.value("single", Json());
  if (!single.is_array() || single.empty()) return fallback;
  const Json& piece = first ? single.front() : single.back();
  return piece.is_object() && piece.contains("SpecialToken") && piece["SpecialToken"].is_object() &&
         piece["SpecialToken"].value("id", Json()) == v.tokens[static_cast<size_t>(id)];
}

Result<Json> ReadJson(const std::string& path, bool optional) {
  std::error_code ec;
  if (optional && !std::filesystem::exists(path, ec)) return Json::object();
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1ull << 30));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corrupt(path + ": not a JSON object");
  return j;
}

// `default_bos`: llama.cpp's add_bos for the vocabulary when the folder doesn't say (true for SentencePiece and
// llama-bpe).
Status AddSpecialIds(const std::string& dir, const Json& tok, const Vocab& v, bool default_bos, GgufMetadata& out) {
  STRATA_ASSIGN_OR_RETURN(Json tok_config, ReadJson(dir + "/tokenizer_config.json", true));
  STRATA_ASSIGN_OR_RETURN(HfConfig config, ReadHfConfig(dir + "/config.json"));
  const int64_t bos = SpecialId(tok_config, "bos_token", v, config.bos_id);
  const int64_t eos = SpecialId(tok_config, "eos_token", v, config.eos_id);
  const int64_t pad = SpecialId(tok_config, "pad_token", v, -1);
  for (auto [key, id] : {std::pair{"tokenizer.ggml.bos_token_id", bos}, {"tokenizer.ggml.eos_token_id", eos},
                         {"tokenizer.ggml.padding_token_id", pad}}) {
    if (id >= static_cast<int64_t>(v.tokens.size()))
      return Status::Corrupt(dir + ": " + key + " " + std::to_string(id) + " is outside the vocabulary");
    if (id >= 0) out.emplace_back(key, U32(id));
  }
  out.emplace_back("tokenizer.ggml.add_bos_token", Bool(AddSpecial(tok, tok_config, "add_bos_token", v, bos, true, default_bos)));
  out.emplace_back("tokenizer.ggml.add_eos_token", Bool(AddSpecial(tok, tok_config, "add_eos_token", v, eos, false, false)));
  std::error_code ec;
  if (std::filesystem::exists(dir + "/tokenizer_config.json", ec)) {  // the template as transformers loads it
    STRATA_ASSIGN_OR_RETURN(HfTokenizerConfig hf, LoadHfTokenizerConfig(dir));
    if (hf.chat_template)
      out.emplace_back("tokenizer.chat_template", GgufValue{.type = GgufType::kString, .v = *hf.chat_template});
  }
  return Status::Ok();
}

// `pre`: llama.cpp's pre-tokenizer name of a byte-level vocabulary; "" for a SentencePiece-style one.
void AddModelKeys(const Vocab& v, const std::vector<std::string>& merges, const std::string& pre, GgufMetadata& out) {
  const bool byte_level = !pre.empty();
  auto string = [](std::string s) { return GgufValue{.type = GgufType::kString, .v = std::move(s)}; };
  out.emplace_back("tokenizer.ggml.model", string(byte_level ? "gpt2" : "llama"));
  out.emplace_back("tokenizer.ggml.pre", string(byte_level ? pre : "default"));
  out.emplace_back("tokenizer.ggml.tokens", StringArray(v.tokens));
  if (!byte_level) out.emplace_back("tokenizer.ggml.scores", NumberArray(GgufType::kF32, MergeScores(v, merges)));
  out.emplace_back("tokenizer.ggml.token_type", NumberArray(GgufType::kI32, v.types));
  if (byte_level) out.emplace_back("tokenizer.ggml.merges", StringArray(merges));
  for (size_t i = 0; i < v.types.size(); ++i)
    if (v.types[i] == static_cast<int32_t>(TokenType::kUnknown))
      out.emplace_back("tokenizer.ggml.unknown_token_id", U32(static_cast<int64_t>(i)));
}

Result<GgufMetadata> VocabMetadata(const std::string& dir, int64_t n_vocab);

}  // namespace

Result<std::string> HfPreTokenizerName(const std::string& tokenizer_json_text) {
  const Json tok = Json::parse(tokenizer_json_text, nullptr, /*allow_exceptions=*/false);
  if (tok.is_discarded() || !tok.is_object()) return Status::Corrupt("tokenizer.json is not a JSON object");
  return PreName(tok);
}

Result<GgufMetadata> HfVocabMetadata(const std::string& dir, int64_t n_vocab) {
  // Every access above checks the JSON type first; this is the backstop for one that doesn't.
  try {
    return VocabMetadata(dir, n_vocab);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(dir + "/tokenizer.json: unexpected structure (" + e.what() + ")");
  }
}

namespace {

Result<GgufMetadata> VocabMetadata(const std::string& dir, int64_t n_vocab) {
  const std::string path = dir + "/tokenizer.json";
  STRATA_ASSIGN_OR_RETURN(Json tok, ReadJson(path, false));
  if (!tok.contains("model") || !tok["model"].is_object() || tok["model"].value("type", Json("BPE")) != "BPE")
    return Status::Unsupported(path + ": model type " +
                               (tok.contains("model") && tok["model"].is_object() ? tok["model"].value("type", Json()).dump() : "(none)") +
                               " cannot be converted (supported: BPE)");
  const bool byte_fallback = tok["model"].value("byte_fallback", Json(false)) == true;
  const bool byte_level = IsByteLevel(tok);
  if (byte_level == byte_fallback)
    return Status::Unsupported(path + ": a BPE model that is " + (byte_level ? "both" : "neither") +
                               " byte-level and byte-fallback cannot be converted");
  auto vocab = ReadVocab(tok, n_vocab, byte_fallback);
  if (!vocab.ok()) return vocab.status().WithContext(path);
  auto merges = ReadMerges(tok["model"]);
  if (!merges.ok()) return merges.status().WithContext(path);
  std::string pre;
  if (byte_level) {
    auto name = PreName(tok);
    if (!name.ok()) return name.status().WithContext(path);
    pre = *name;
  }
  GgufMetadata out;
  AddModelKeys(*vocab, *merges, pre, out);
  STRATA_RETURN_IF_ERROR(AddSpecialIds(dir, tok, *vocab, /*default_bos=*/!byte_level || pre == "llama-bpe", out));
  return out;
}

}  // namespace

}  // namespace strata
