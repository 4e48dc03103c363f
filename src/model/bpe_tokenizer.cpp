// BpeTokenizer: the encode and decode pipelines of Hugging Face `tokenizers` (tokenizer/mod.rs,
// added_vocabulary.rs, decoders/*.rs) over BpeModel.
#include "model/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace strata {
namespace {


// Decodes bytes as Rust's String::from_utf8_lossy does: each maximal prefix of a well-formed sequence that
// stops short (or a byte that starts none) becomes one U+FFFD.
std::string LossyUtf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (size_t i = 0; i < b.size();) {
    const size_t len = Utf8CharLength(b.substr(i));
    if (len != 0) {
      out.append(b, i, len);
      i += len;
      continue;
    }
    const auto c = static_cast<uint8_t>(b[i]);
    size_t need = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    uint8_t lo = 0x80, hi = 0xBF;  // the second byte's range (no overlongs, surrogates or > U+10FFFF)
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    size_t j = i + 1;
    for (; need > 0 && j < b.size(); --need, ++j) {
      const auto d = static_cast<uint8_t>(b[j]);
      if (d < lo || d > hi) break;
      lo = 0x80;
      hi = 0xBF;
    }
    out += kReplacementChar;
    i = j;
  }
  return out;
}

// The decoders of tokenizers (decoders/*.rs), each over the list of token strings. `raw` keeps bytes as they
// are (TokenBytes, for the stream decoder to assemble) instead of replacing invalid UTF-8.
std::vector<std::string> Fuse(const std::vector<std::string>& tokens) {
  std::string all;
  for (const std::string& t : tokens) all += t;
  return {all};
}

std::vector<std::string> DecodeByteLevel(const std::vector<std::string>& tokens, bool raw) {
  std::string bytes;
  for (const std::string& t : tokens)
    if (!ByteLevelToBytes(t, bytes)) bytes += t;  // a token outside the byte alphabet stands for itself
  return {raw ? bytes : LossyUtf8(bytes)};
}

void ReplaceAll(std::vector<std::string>& tokens, const std::string& pattern, const std::string& content) {
  for (std::string& t : tokens)
    for (size_t p = t.find(pattern); p != std::string::npos; p = t.find(pattern, p + content.size()))
      t.replace(p, pattern.size(), content);
}

// Runs of <0xXX> tokens become their bytes; a run that is not valid UTF-8 becomes one U+FFFD per byte.
std::vector<std::string> DecodeByteFallback(std::vector<std::string> tokens, bool raw) {
  std::vector<std::string> out;
  std::string pending;
  size_t count = 0;
  auto flush = [&] {
    if (count == 0) return;
    if (raw || LossyUtf8(pending) == pending) out.push_back(pending);
    else for (size_t k = 0; k < count; ++k) out.emplace_back(kReplacementChar);
    pending.clear();
    count = 0;
  };
  for (std::string& t : tokens) {
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<uint8_t>(t[3])) &&
        std::isxdigit(static_cast<uint8_t>(t[4]))) {
      pending += static_cast<char>(std::stoul(t.substr(3, 2), nullptr, 16));
      ++count;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  return out;
}

void Strip(std::vector<std::string>& tokens, const DecoderStep& step) {
  const std::string& c = step.pattern;
  for (std::string& t : tokens) {
    for (size_t k = 0; k < step.start && !c.empty() && t.compare(0, c.size(), c) == 0; ++k) t.erase(0, c.size());
    for (size_t k = 0; k < step.stop && !c.empty() && t.size() >= c.size() &&
                       t.compare(t.size() - c.size(), c.size(), c) == 0;
         ++k)
      t.resize(t.size() - c.size());
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Leftmost-longest matching of added tokens, as tokenizers' Aho-Corasick with MatchKind::LeftmostLongest.
class AddedTokenMatcher {
 public:
  void Add(const AddedToken* t) { by_first_[static_cast<uint8_t>(t->content[0])].push_back(t); }
  void Finish() {
    for (auto& v : by_first_)
      std::stable_sort(v.begin(), v.end(),
                       [](const AddedToken* a, const AddedToken* b) { return a->content.size() > b->content.size(); });
  }
  bool empty() const {
    return std::all_of(by_first_.begin(), by_first_.end(), [](const auto& v) { return v.empty(); });
  }

  // Calls on_text for the text between matches and on_token for each matched token, in order.
  template <typename OnText, typename OnToken>
  void Split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    size_t done = 0;  // text before this has been handed out
    for (size_t pos = 0; pos < text.size(); ++pos) {
      const AddedToken* hit = nullptr;
      for (const AddedToken* t : by_first_[static_cast<uint8_t>(text[pos])])
        if (text.compare(pos, t->content.size(), t->content) == 0) {
          hit = t;
          break;
        }
      if (hit == nullptr) continue;
      size_t start = pos, end = pos + hit->content.size();
      if (hit->lstrip)
        while (start > done && IsSpace(text[start - 1])) --start;
      if (hit->rstrip)
        while (end < text.size() && IsSpace(text[end])) ++end;
      if (start > done) on_text(text.substr(done, start - done));
      on_token(hit->id);
      done = end;
      pos = end - 1;
    }
    if (done < text.size()) on_text(text.substr(done));
  }

 private:
  std::array<std::vector<const AddedToken*>, 256> by_first_;
};

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(BpeModel model, BpeTokenizerConfig config) : model_(std::move(model)), cfg_(std::move(config)) {}
  Status Init();

  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  const std::string& Piece(int32_t id) const override;
  std::string TokenBytes(int32_t id) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const override { return cfg_.bos_id; }
  int32_t eos_id() const override { return cfg_.eos_id; }
  bool add_bos() const override { return cfg_.add_bos; }
  bool add_eos() const override { return cfg_.add_eos; }

 private:
  void EncodeText(std::string_view text, std::vector<int32_t>& out) const;
  std::string RunDecoders(std::vector<std::string> tokens, bool raw) const;
  const AddedToken* Added(int32_t id) const {
    const auto it = added_by_id_.find(id);
    return it == added_by_id_.end() ? nullptr : it->second;
  }

  BpeModel model_;
  BpeTokenizerConfig cfg_;
  std::vector<std::string> pieces_;
  std::unordered_map<int32_t, const AddedToken*> added_by_id_;
  AddedTokenMatcher raw_, normalized_;
};

Status BpeTokenizer::Init() {
  // Added ids may extend the vocabulary, but not absurdly: a crafted file must not make us allocate gigabytes.
  constexpr int64_t kMaxExtra = 1 << 20;
  int64_t n = model_.size();
  std::unordered_set<std::string_view> seen;
  for (const AddedToken& t : cfg_.added) {
    if (t.content.empty()) return Status::Corrupt("added token " + std::to_string(t.id) + " is empty");
    if (t.id < 0 || t.id >= model_.size() + kMaxExtra)
      return Status::Corrupt("added token '" + t.content + "' has id " + std::to_string(t.id) +
                             ", outside the vocabulary");
    if (!seen.insert(t.content).second) return Status::Corrupt("added token '" + t.content + "' appears twice");
    if (!added_by_id_.emplace(t.id, &t).second)
      return Status::Corrupt("two added tokens have id " + std::to_string(t.id));
    n = std::max<int64_t>(n, int64_t{t.id} + 1);
  }
  pieces_.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < model_.size(); ++i) pieces_[static_cast<size_t>(i)] = model_.Token(i);
  for (const AddedToken& t : cfg_.added) {
    pieces_[static_cast<size_t>(t.id)] = t.content;
    (t.normalized && !cfg_.normalizers.empty() ? normalized_ : raw_).Add(&t);
  }
  raw_.Finish();
  normalized_.Finish();
  for (const auto& [name, id, wanted] : {std::tuple{"BOS", cfg_.bos_id, cfg_.add_bos},
                                         std::tuple{"EOS", cfg_.eos_id, cfg_.add_eos}}) {
    if (id < -1 || id >= n)
      return Status::Corrupt(std::string(name) + " id " + std::to_string(id) + " is outside the vocabulary");
    if (wanted && id < 0)
      return Status::Corrupt(std::string("the tokenizer asks to add ") + name + " but names no " + name + " token");
  }
  return Status::Ok();
}

void BpeTokenizer::EncodeText(std::string_view text, std::vector<int32_t>& out) const {
  const std::string norm = Normalize(cfg_.normalizers, text);
  normalized_.Split(
      norm,
      [&](std::string_view piece) {
        for (const std::string& word : PreTokenize(cfg_.pre_tokenizers, piece)) model_.EncodeWord(word, out);
      },
      [&](int32_t id) { out.push_back(id); });
}

std::vector<int32_t> BpeTokenizer::Encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && cfg_.bos_id >= 0) out.push_back(cfg_.bos_id);
  const std::string valid = ValidUtf8(text);  // the reference only takes valid Unicode text
  raw_.Split(
      valid, [&](std::string_view piece) { EncodeText(piece, out); }, [&](int32_t id) { out.push_back(id); });
  return out;
}

std::string BpeTokenizer::RunDecoders(std::vector<std::string> tokens, bool raw) const {
  for (const DecoderStep& step : cfg_.decoders) {
    switch (step.kind) {
      case DecoderStep::Kind::kByteLevel: tokens = DecodeByteLevel(tokens, raw); break;
      case DecoderStep::Kind::kReplace: ReplaceAll(tokens, step.pattern, step.content); break;
      case DecoderStep::Kind::kByteFallback: tokens = DecodeByteFallback(std::move(tokens), raw); break;
      case DecoderStep::Kind::kFuse: tokens = Fuse(tokens); break;
      case DecoderStep::Kind::kStrip:
        if (!raw) Strip(tokens, step);  // a streamed token keeps its spaces; only whole-text decoding strips
        break;
    }
  }
  return Fuse(tokens)[0];
}

std::string BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  // As tokenizers' decode(skip_special_tokens=false): every token, added ones included, goes through the
  // decoder chain (a byte-level decoder passes a token that is not in its alphabet through as it is).
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids)
    if (id >= 0 && id < n_vocab()) tokens.push_back(pieces_[static_cast<size_t>(id)]);
  return LossyUtf8(RunDecoders(std::move(tokens), false));
}

const std::string& BpeTokenizer::Piece(int32_t id) const {
  static const std::string kNone;
  return id >= 0 && id < n_vocab() ? pieces_[static_cast<size_t>(id)] : kNone;
}

std::string BpeTokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  if (const AddedToken* t = Added(id); t != nullptr && t->special) return {};
  return RunDecoders({pieces_[static_cast<size_t>(id)]}, true);
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> CreateBpeTokenizer(BpeTokenizerConfig config) {
  STRATA_ASSIGN_OR_RETURN(BpeModel model, BpeModel::Create(std::move(config.model)));
  config.model = {};
  auto tok = std::make_unique<BpeTokenizer>(std::move(model), std::move(config));
  STRATA_RETURN_IF_ERROR(tok->Init());
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace strata
