// tokenizer.json -> BpeTokenizerConfig. The file is untrusted: every field's type is checked (nlohmann's
// exceptions are caught here and become kCorrupt naming the field), and each component type Strata does not
// run is refused by name rather than approximated.
#include "model/hf_tokenizer.h"

#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "model/bpe_tokenizer.h"

namespace strata {
namespace {

using nlohmann::json;

// A component Strata does not implement. Thrown inside this file only; Load turns it into a Status.
struct UnsupportedComponent {
  std::string what;
};
// A field whose value is wrong (a repeated vocabulary id, a malformed merge). Becomes kCorrupt.
struct BadField {
  std::string what;
};

[[noreturn]] void Refuse(const std::string& kind, const json& node) {
  const std::string type = node.is_object() && node.contains("type") ? node["type"].dump() : node.dump();
  throw UnsupportedComponent{kind + " " + type + " is not supported"};
}

bool Flag(const json& node, const char* key, bool fallback) {
  if (!node.contains(key) || node[key].is_null()) return fallback;
  return node.at(key).get<bool>();
}

std::string Type(const json& node) { return node.at("type").get<std::string>(); }

// A pattern object {"String": "..."} or {"Regex": "..."}: (text, is_regex).
std::pair<std::string, bool> Pattern(const json& p) {
  if (p.contains("Regex")) return {p.at("Regex").get<std::string>(), true};
  return {p.at("String").get<std::string>(), false};
}

std::shared_ptr<const Regex> Compiled(const std::pair<std::string, bool>& p) {
  auto re = p.second ? Regex::Compile(p.first) : Regex::Literal(p.first);
  if (!re.ok()) throw UnsupportedComponent{re.status().message()};
  return *re;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) throw UnsupportedComponent{r.status().message()};
  return std::move(r).value();
}

void AddNormalizer(const json& n, std::vector<NormalizerStep>& out) {
  if (n.is_null()) return;
  const std::string type = Type(n);
  using K = NormalizerStep::Kind;
  if (type == "Sequence") {
    for (const json& s : n.at("normalizers")) AddNormalizer(s, out);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    out.push_back({type == "NFC" ? K::kNfc : type == "NFD" ? K::kNfd : type == "NFKC" ? K::kNfkc : K::kNfkd, nullptr, {}});
  } else if (type == "Replace") {
    out.push_back({K::kReplace, Compiled(Pattern(n.at("pattern"))), n.at("content").get<std::string>()});
  } else if (type == "Prepend") {
    out.push_back({K::kPrepend, nullptr, n.at("prepend").get<std::string>()});
  } else {
    Refuse("normalizer", n);
  }
}

SplitBehavior Behavior(const json& b) {
  const std::string s = b.get<std::string>();
  if (s == "Removed") return SplitBehavior::kRemoved;
  if (s == "Isolated") return SplitBehavior::kIsolated;
  if (s == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (s == "Contiguous") return SplitBehavior::kContiguous;
  throw UnsupportedComponent{"Split behavior '" + s + "' is not supported"};
}

void AddPreTokenizer(const json& p, std::vector<PreTokenizerStep>& out) {
  if (p.is_null()) return;
  const std::string type = Type(p);
  if (type == "Sequence") {
    for (const json& s : p.at("pretokenizers")) AddPreTokenizer(s, out);
  } else if (type == "Split") {
    const auto [pattern, is_regex] = Pattern(p.at("pattern"));
    out.push_back(Must(SplitStep(pattern, is_regex, Behavior(p.at("behavior")), Flag(p, "invert", false))));
  } else if (type == "ByteLevel") {
    out.push_back(Must(ByteLevelStep(Flag(p, "add_prefix_space", true), Flag(p, "use_regex", true))));
  } else if (type == "Digits") {
    out.push_back(Must(DigitsStep(Flag(p, "individual_digits", false))));
  } else {
    Refuse("pre_tokenizer", p);
  }
}

void AddDecoder(const json& d, std::vector<DecoderStep>& out) {
  const std::string type = Type(d);
  using K = DecoderStep::Kind;
  if (type == "Sequence") {
    for (const json& s : d.at("decoders")) AddDecoder(s, out);
  } else if (type == "ByteLevel") {
    out.push_back({K::kByteLevel, {}, {}, 0, 0});
  } else if (type == "ByteFallback") {
    out.push_back({K::kByteFallback, {}, {}, 0, 0});
  } else if (type == "Fuse") {
    out.push_back({K::kFuse, {}, {}, 0, 0});
  } else if (type == "Replace") {
    if (!d.at("pattern").contains("String")) throw UnsupportedComponent{"decoder Replace with a Regex pattern is not supported"};
    out.push_back({K::kReplace, d.at("pattern").at("String").get<std::string>(), d.at("content").get<std::string>(), 0, 0});
    if (out.back().pattern.empty()) throw BadField{"decoder Replace: the pattern is empty"};
  } else if (type == "Strip") {
    out.push_back({K::kStrip, d.at("content").get<std::string>(), {}, d.at("start").get<size_t>(), d.at("stop").get<size_t>()});
    if (out.back().pattern.empty()) throw BadField{"decoder Strip: the content is empty"};
  } else {
    Refuse("decoder", d);
  }
}

// The BOS/EOS a post-processor adds around a single sequence: nothing (null, ByteLevel) or a
// TemplateProcessing "single" of the shape [special]? $A [special]?.
struct SpecialRule {
  int32_t bos = -1, eos = -1;
};

int32_t TemplateTokenId(const json& post, const std::string& name) {
  const json& ids = post.at("special_tokens").at(name).at("ids");
  if (ids.size() != 1) throw UnsupportedComponent{"TemplateProcessing special token '" + name + "' of several ids"};
  return ids[0].get<int32_t>();
}

void AddPostProcessor(const json& p, SpecialRule& rule) {
  if (p.is_null()) return;
  const std::string type = Type(p);
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "Sequence") {
    for (const json& s : p.at("processors")) AddPostProcessor(s, rule);
    return;
  }
  if (type != "TemplateProcessing") Refuse("post_processor", p);
  bool seen_sequence = false;
  for (const json& piece : p.at("single")) {
    if (piece.contains("Sequence")) {
      if (seen_sequence) Refuse("post_processor", p);
      seen_sequence = true;
    } else {
      const int32_t id = TemplateTokenId(p, piece.at("SpecialToken").at("id").get<std::string>());
      int32_t& slot = seen_sequence ? rule.eos : rule.bos;
      if (slot >= 0) throw UnsupportedComponent{"TemplateProcessing with several special tokens on one side"};
      slot = id;
    }
  }
}

BpeModelConfig ReadModel(const json& m, const std::vector<AddedToken>& added) {
  if (Type(m) != "BPE") Refuse("model", m);
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (m.contains(key) && !m[key].is_null() && !m[key].get<std::string>().empty())
      throw UnsupportedComponent{std::string("BPE ") + key + " is not supported"};
  if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0.0)
    throw UnsupportedComponent{"BPE dropout is not supported"};
  BpeModelConfig c;
  const json& vocab = m.at("vocab");
  c.tokens.resize(vocab.size());
  for (const auto& [token, id_json] : vocab.items()) {
    const int64_t id = id_json.get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(vocab.size()) || !c.tokens[static_cast<size_t>(id)].empty())
      throw BadField{"model.vocab: id " + std::to_string(id) + " of '" + token +
                                               "' is repeated or outside 0.." + std::to_string(vocab.size() - 1)};
    c.tokens[static_cast<size_t>(id)] = token;
  }
  for (const json& merge : m.at("merges")) {
    if (merge.is_array()) {
      if (merge.size() != 2) throw BadField{"model.merges: " + merge.dump() + " is not a pair"};
      c.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      continue;
    }
    const std::string s = merge.get<std::string>();
    const size_t space = s.find(' ', 1);
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
      throw BadField{"model.merges: '" + s + "' is not two tokens separated by a space"};
    c.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
  }
  c.byte_fallback = Flag(m, "byte_fallback", false);
  c.ignore_merges = Flag(m, "ignore_merges", false);
  c.fuse_unk = Flag(m, "fuse_unk", false);
  if (m.contains("unk_token") && !m["unk_token"].is_null()) {
    const std::string unk = m["unk_token"].get<std::string>();
    const auto it = vocab.find(unk);
    if (it != vocab.end()) c.unk_id = it->get<int32_t>();
    for (const AddedToken& t : added)
      if (c.unk_id < 0 && t.content == unk && t.id < static_cast<int64_t>(c.tokens.size())) c.unk_id = t.id;
  }
  return c;
}

std::vector<AddedToken> ReadAddedTokens(const json& list) {
  std::vector<AddedToken> out;
  for (const json& t : list) {
    if (Flag(t, "single_word", false))
      throw UnsupportedComponent{"added token " + t.at("content").dump() + " with single_word=true is not supported"};
    const int64_t id = t.at("id").get<int64_t>();
    if (id < 0 || id > std::numeric_limits<int32_t>::max())
      throw BadField{"added_tokens: id " + std::to_string(id) + " is out of range"};
    out.push_back({t.at("content").get<std::string>(), static_cast<int32_t>(id), Flag(t, "special", false),
                   Flag(t, "lstrip", false), Flag(t, "rstrip", false), Flag(t, "normalized", false)});
  }
  return out;
}

// A special token of tokenizer_config.json: a string, an AddedToken object {"content": ...}, or null.
std::string ConfigToken(const json& config, const char* key) {
  if (!config.contains(key) || config[key].is_null()) return {};
  const json& v = config[key];
  return v.is_string() ? v.get<std::string>() : v.at("content").get<std::string>();
}

int32_t IdOf(const std::string& content, const std::vector<AddedToken>& added, const BpeModelConfig& model) {
  for (const AddedToken& t : added)
    if (t.content == content) return t.id;
  for (size_t i = 0; i < model.tokens.size(); ++i)
    if (model.tokens[i] == content) return static_cast<int32_t>(i);
  return -1;
}

// transformers' rule for add_special_tokens=true: the Llama and Gemma tokenizer classes rebuild the
// post-processor from add_bos_token (default true) and add_eos_token (default false); other classes use
// tokenizer.json's post-processor unless tokenizer_config.json sets those flags itself.
void ApplyConfig(const json& config, BpeTokenizerConfig& c, SpecialRule rule) {
  const std::string cls = config.contains("tokenizer_class") && config["tokenizer_class"].is_string()
                              ? config["tokenizer_class"].get<std::string>() : "";
  const bool rebuilds = cls.rfind("LlamaTokenizer", 0) == 0 || cls.rfind("GemmaTokenizer", 0) == 0 ||
                        cls.rfind("CodeLlamaTokenizer", 0) == 0;
  const std::string bos = ConfigToken(config, "bos_token"), eos = ConfigToken(config, "eos_token");
  // One side (BOS or EOS): the config's flag when it decides, else whatever the post-processor adds.
  auto pick = [&](const char* key, bool class_default, const std::string& token, int32_t rule_id, bool& add,
                  int32_t& id) {
    const int32_t named = token.empty() ? -1 : IdOf(token, c.added, c.model);
    if (rebuilds || config.contains(key)) {
      add = Flag(config, key, class_default);
      id = named;
    } else {
      add = rule_id >= 0;
      id = add ? rule_id : named;
    }
  };
  pick("add_bos_token", rebuilds, bos, rule.bos, c.add_bos, c.bos_id);
  pick("add_eos_token", false, eos, rule.eos, c.add_eos, c.eos_id);
}

Result<BpeTokenizerConfig> Convert(const json& tok, const json& config) {
  BpeTokenizerConfig c;
  c.added = ReadAddedTokens(tok.contains("added_tokens") ? tok.at("added_tokens") : json::array());
  c.model = ReadModel(tok.at("model"), c.added);
  if (tok.contains("normalizer")) AddNormalizer(tok.at("normalizer"), c.normalizers);
  if (tok.contains("pre_tokenizer")) AddPreTokenizer(tok.at("pre_tokenizer"), c.pre_tokenizers);
  if (!tok.contains("decoder") || tok.at("decoder").is_null())
    throw UnsupportedComponent{"a tokenizer without a decoder is not supported"};
  AddDecoder(tok.at("decoder"), c.decoders);
  SpecialRule rule;
  if (tok.contains("post_processor")) AddPostProcessor(tok.at("post_processor"), rule);
  ApplyConfig(config, c, rule);
  return c;
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> ParseHfTokenizer(const std::string& name, const std::string& tokenizer_json,
                                                    const std::string& config_json) {
  Result<BpeTokenizerConfig> config = Status::Internal("unset");
  try {
    const json tok = json::parse(tokenizer_json);
    const json cfg = config_json.empty() ? json::object() : json::parse(config_json);
    if (!tok.is_object() || !cfg.is_object()) return Status::Corrupt(name + ": tokenizer files must hold JSON objects");
    config = Convert(tok, cfg);
  } catch (const UnsupportedComponent& e) {
    return Status::Unsupported(name + ": tokenizer.json: " + e.what);
  } catch (const BadField& e) {
    return Status::Corrupt(name + ": tokenizer.json: " + e.what);
  } catch (const json::exception& e) {
    return Status::Corrupt(name + ": tokenizer.json / tokenizer_config.json: " + e.what());
  }
  if (!config.ok()) return config.status().WithContext(name);
  Result<std::unique_ptr<Tokenizer>> t = CreateBpeTokenizer(std::move(config).value());
  if (!t.ok()) return t.status().WithContext(name + "/tokenizer.json");
  return t;
}

Result<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& dir) {
  STRATA_ASSIGN_OR_RETURN(const std::string tok, ReadWhole(dir + "/tokenizer.json"));
  std::string config;
  if (std::ifstream(dir + "/tokenizer_config.json")) {
    STRATA_ASSIGN_OR_RETURN(config, ReadWhole(dir + "/tokenizer_config.json"));
  }
  return ParseHfTokenizer(dir, tok, config);
}

}  // namespace strata
