// SentencePiece BPE, as sentencepiece's bpe_model / SentencePieceProcessor do it:
//   normalise (identity: copy characters, ' ' -> "▁", a leading "▁" when add_space_prefix), split into
//   characters (a user-defined piece stays whole), then repeatedly merge the adjacent pair whose concatenation
//   is a piece with the highest score (ties: leftmost) using a priority queue over a linked list of symbols;
//   symbols that are no piece become byte tokens <0xXX> (byte fallback) or <unk>.
// Decoding mirrors sentencepiece's Decode: control tokens vanish, <unk> reads " ⁇ ", runs of byte tokens are
// assembled and validated as UTF-8, "▁" reads ' ', and the first "▁" of the output is dropped once.
#include "model/spm_tokenizer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace strata {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";          // U+2581 LOWER ONE EIGHTH BLOCK
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";      // " ⁇ ", sentencepiece's <unk> text

// Length a UTF-8 lead byte announces, without validation (sentencepiece's OneCharLen).
size_t LeadLength(char c) {
  const auto b = static_cast<uint8_t>(c);
  if (b < 0xC0) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return 4;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0x41>" -> 0x41; -1 when the piece is not a byte piece.
int ParseBytePiece(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  const int hi = HexDigit(p[3]), lo = HexDigit(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Pieces that merges may produce (sentencepiece keeps these in its `pieces_` map; control, unknown and byte
// pieces live apart and are never merge results).
bool IsMergeable(TokenType t) {
  return t == TokenType::kNormal || t == TokenType::kUserDefined || t == TokenType::kUnused ||
         t == TokenType::kUndefined;
}

void AppendUnescaped(std::string_view piece, std::string& out) {
  for (size_t pos = 0;;) {
    const size_t hit = piece.find(kSpaceSymbol, pos);
    if (hit == std::string_view::npos) {
      out.append(piece.substr(pos));
      return;
    }
    out.append(piece.substr(pos, hit - pos));
    out.push_back(' ');
    pos = hit + kSpaceSymbol.size();
  }
}

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(SpmVocab vocab);
  SpmTokenizer(const SpmTokenizer&) = delete;  // the maps hold views into vocab_
  SpmTokenizer& operator=(const SpmTokenizer&) = delete;

  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  const std::string& Piece(int32_t id) const override;
  std::string TokenBytes(int32_t id) const override;

  int32_t n_vocab() const override { return static_cast<int32_t>(vocab_.pieces.size()); }
  int32_t bos_id() const override { return vocab_.bos_id; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  bool add_bos() const override { return vocab_.add_bos; }

 private:
  using RevMerge = std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>>;

  bool InRange(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < vocab_.pieces.size(); }
  TokenType Type(int32_t id) const { return vocab_.types[static_cast<size_t>(id)]; }
  std::string Normalize(std::string_view text) const;
  size_t MatchUserDefined(std::string_view s) const;
  int32_t FindMergeable(std::string_view piece) const;
  int32_t FindAny(std::string_view piece) const;
  void EmitSymbol(std::string_view piece, const RevMerge& rev_merge, std::vector<int32_t>& out,
                  bool& prev_unknown) const;

  SpmVocab vocab_;
  std::unordered_map<std::string_view, int32_t> mergeable_;  // normal, user-defined, unused pieces
  std::unordered_map<std::string_view, int32_t> reserved_;   // control, unknown, byte pieces
  std::array<int32_t, 256> byte_ids_;                        // byte -> its <0xXX> token, -1 when absent
  std::vector<int16_t> byte_of_;                             // id -> byte of a byte token, else -1
  bool byte_fallback_ = false;
  std::array<std::vector<std::string_view>, 256> user_defined_;  // by first byte, longest first
  bool has_user_defined_ = false;
};

SpmTokenizer::SpmTokenizer(SpmVocab vocab) : vocab_(std::move(vocab)) {
  byte_ids_.fill(-1);
  byte_of_.assign(vocab_.pieces.size(), -1);
  for (size_t i = 0; i < vocab_.pieces.size(); ++i) {
    const std::string_view piece = vocab_.pieces[i];
    const TokenType type = vocab_.types[i];
    const auto id = static_cast<int32_t>(i);
    if (type == TokenType::kByte) {
      const int b = ParseBytePiece(piece);  // validated by CreateSpmTokenizer
      byte_of_[i] = static_cast<int16_t>(b);
      if (byte_ids_[static_cast<size_t>(b)] < 0) byte_ids_[static_cast<size_t>(b)] = id;
      byte_fallback_ = true;
    }
    if (piece.empty()) continue;  // never matches a symbol
    (IsMergeable(type) ? mergeable_ : reserved_).emplace(piece, id);  // the first of duplicates wins
    if (type == TokenType::kUserDefined) {
      user_defined_[static_cast<uint8_t>(piece[0])].push_back(piece);
      has_user_defined_ = true;
    }
  }
  for (auto& list : user_defined_)
    std::stable_sort(list.begin(), list.end(), [](std::string_view a, std::string_view b) {
      return a.size() > b.size();
    });
}

size_t SpmTokenizer::MatchUserDefined(std::string_view s) const {
  if (!has_user_defined_ || s.empty()) return 0;
  for (std::string_view piece : user_defined_[static_cast<uint8_t>(s[0])])
    if (s.starts_with(piece)) return piece.size();
  return 0;
}

int32_t SpmTokenizer::FindMergeable(std::string_view piece) const {
  const auto it = mergeable_.find(piece);
  return it == mergeable_.end() ? -1 : it->second;
}

int32_t SpmTokenizer::FindAny(std::string_view piece) const {
  const auto it = reserved_.find(piece);
  return it != reserved_.end() ? it->second : FindMergeable(piece);
}

// sentencepiece's Normalizer::Normalize with an empty (identity) character map.
std::string SpmTokenizer::Normalize(std::string_view text) const {
  std::string out;
  const bool squeeze = vocab_.remove_extra_whitespaces;
  if (squeeze) {
    while (!text.empty() && text[0] == ' ' && MatchUserDefined(text) == 0) text.remove_prefix(1);
  }
  if (text.empty()) return out;
  out.reserve(text.size() + text.size() / 2 + kSpaceSymbol.size());
  if (vocab_.add_space_prefix) out.append(kSpaceSymbol);

  bool prev_space = squeeze;
  while (!text.empty()) {
    // One unit: a whole user-defined piece, else one UTF-8 character, else one bad byte read as U+FFFD.
    size_t consumed = MatchUserDefined(text);
    std::string_view unit;
    if (consumed == 0) consumed = Utf8CharLength(text);
    if (consumed == 0) {
      consumed = 1;
      unit = kReplacementChar;
    } else {
      unit = text.substr(0, consumed);
    }
    while (prev_space && !unit.empty() && unit[0] == ' ') unit.remove_prefix(1);
    if (!unit.empty()) {
      for (char c : unit) {
        if (c == ' ')
          out.append(kSpaceSymbol);
        else
          out.push_back(c);
      }
      prev_space = unit.back() == ' ';
    }
    text.remove_prefix(consumed);
    if (!squeeze) prev_space = false;
  }
  if (squeeze) {
    while (std::string_view(out).ends_with(kSpaceSymbol)) out.resize(out.size() - kSpaceSymbol.size());
  }
  return out;
}

// One final symbol -> ids: an unused piece is split back into the pieces it was merged from; a symbol with no
// piece becomes byte tokens, or <unk> (a run of unknown symbols yields one <unk>, as sentencepiece does).
void SpmTokenizer::EmitSymbol(std::string_view piece, const RevMerge& rev_merge, std::vector<int32_t>& out,
                              bool& prev_unknown) const {
  std::vector<std::string_view> stack{piece};
  while (!stack.empty()) {
    const std::string_view w = stack.back();
    stack.pop_back();
    int32_t id = FindAny(w);
    if (id >= 0 && Type(id) == TokenType::kUnused) {
      const auto it = rev_merge.find(w);
      if (it != rev_merge.end()) {
        stack.push_back(it->second.second);
        stack.push_back(it->second.first);
        continue;
      }
    }
    const bool unknown = id < 0 || Type(id) == TokenType::kUnknown;
    if (id < 0) id = vocab_.unk_id;
    if (unknown && byte_fallback_) {
      for (char c : w) {
        const int32_t b = byte_ids_[static_cast<uint8_t>(c)];
        out.push_back(b >= 0 ? b : vocab_.unk_id);
      }
    } else if (!(unknown && prev_unknown)) {
      out.push_back(id);
    }
    prev_unknown = unknown;
  }
}

std::vector<int32_t> SpmTokenizer::Encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  const std::string norm = Normalize(text);
  if (norm.empty()) return out;

  // The symbols: a doubly linked list over `norm`; a merged-away symbol has len 0.
  struct Symbol {
    int32_t prev, next;
    uint32_t start, len;
    bool freeze;  // a user-defined piece: never merged
  };
  std::vector<Symbol> symbols;
  symbols.reserve(norm.size());
  for (size_t pos = 0; pos < norm.size();) {
    const std::string_view rest(norm.data() + pos, norm.size() - pos);
    size_t n = MatchUserDefined(rest);
    const bool freeze = n > 0;
    if (n == 0) n = std::min(LeadLength(rest[0]), rest.size());
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, pos + n < norm.size() ? index + 1 : -1, static_cast<uint32_t>(pos),
                       static_cast<uint32_t>(n), freeze});
    pos += n;
  }
  auto view = [&](const Symbol& s) { return std::string_view(norm.data() + s.start, s.len); };

  // Candidate merges; the best has the highest score, then the leftmost position.
  struct Candidate {
    float score;
    int32_t left, right;
    uint32_t len;  // bytes of the merged piece; a mismatch later means the candidate is stale
  };
  auto worse = [](const Candidate& a, const Candidate& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> agenda(worse);
  RevMerge rev_merge;  // unused piece -> the two pieces it was made of, to split it back at the end

  auto add_candidate = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0 || symbols[left].freeze || symbols[right].freeze) return;
    const std::string_view joined(norm.data() + symbols[left].start, symbols[left].len + symbols[right].len);
    const int32_t id = FindMergeable(joined);
    if (id < 0) return;
    agenda.push({vocab_.scores[static_cast<size_t>(id)], left, right, static_cast<uint32_t>(joined.size())});
    if (Type(id) == TokenType::kUnused) rev_merge[joined] = {view(symbols[left]), view(symbols[right])};
  };

  for (size_t i = 1; i < symbols.size(); ++i) add_candidate(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!agenda.empty()) {
    const Candidate c = agenda.top();
    agenda.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.len == 0 || right.len == 0 || left.len + right.len != c.len) continue;  // stale
    left.len += right.len;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    right.len = 0;
    add_candidate(left.prev, c.left);
    add_candidate(c.left, left.next);
  }

  bool prev_unknown = false;
  for (int32_t i = 0; i != -1; i = symbols[i].next) EmitSymbol(view(symbols[i]), rev_merge, out, prev_unknown);
  return out;
}

std::string SpmTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string text;
  std::string bytes;  // a run of byte tokens, validated as UTF-8 when it ends
  auto flush_bytes = [&] {
    for (size_t i = 0; i < bytes.size();) {
      const size_t n = Utf8CharLength(std::string_view(bytes).substr(i));
      if (n == 0) {
        text.append(kReplacementChar);
        ++i;
      } else {
        text.append(bytes, i, n);
        i += n;
      }
    }
    bytes.clear();
  };

  const bool strip_leading = vocab_.add_space_prefix || vocab_.remove_extra_whitespaces;
  bool at_start = true;        // the dummy-prefix space may still be ahead
  bool stripped_last = false;  // the previous piece lost its leading "▁"
  for (int32_t id : ids) {
    if (!InRange(id)) continue;  // sentencepiece rejects these; decoding skips them
    const TokenType type = Type(id);
    if (type == TokenType::kByte) {
      bytes.push_back(static_cast<char>(byte_of_[static_cast<size_t>(id)]));
      continue;
    }
    flush_bytes();
    if (stripped_last || !text.empty()) at_start = false;
    stripped_last = false;
    if (type == TokenType::kControl) continue;
    if (type == TokenType::kUnknown) {
      text.append(kUnknownSurface);
      continue;
    }
    std::string_view piece = vocab_.pieces[static_cast<size_t>(id)];
    if (at_start && strip_leading && piece.starts_with(kSpaceSymbol)) {
      piece.remove_prefix(kSpaceSymbol.size());
      // With remove_extra_whitespaces every leading "▁" goes, so keep looking.
      stripped_last = !vocab_.remove_extra_whitespaces;
    }
    AppendUnescaped(piece, text);
  }
  flush_bytes();
  return text;
}

const std::string& SpmTokenizer::Piece(int32_t id) const {
  static const std::string kNone;
  return InRange(id) ? vocab_.pieces[static_cast<size_t>(id)] : kNone;
}

std::string SpmTokenizer::TokenBytes(int32_t id) const {
  std::string out;
  if (!InRange(id)) return out;
  switch (Type(id)) {
    case TokenType::kControl: return out;
    case TokenType::kUnknown: return std::string(kUnknownSurface);
    case TokenType::kByte: out.push_back(static_cast<char>(byte_of_[static_cast<size_t>(id)])); return out;
    default: AppendUnescaped(vocab_.pieces[static_cast<size_t>(id)], out); return out;
  }
}

std::string TokenLabel(const SpmVocab& v, size_t i) {
  return "token " + std::to_string(i) + " ('" + v.pieces[i] + "')";
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> CreateSpmTokenizer(SpmVocab vocab) {
  const size_t n = vocab.pieces.size();
  if (n == 0) return Status::Corrupt("the vocabulary is empty");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return Status::Corrupt("the vocabulary has " + std::to_string(n) + " tokens, more than ids can address");
  if (vocab.scores.size() != n || vocab.types.size() != n)
    return Status::Corrupt("the vocabulary has " + std::to_string(n) + " tokens but " +
                           std::to_string(vocab.scores.size()) + " scores and " + std::to_string(vocab.types.size()) +
                           " token types");
  bool bytes_seen[256] = {};
  for (size_t i = 0; i < n; ++i) {
    const auto t = static_cast<int32_t>(vocab.types[i]);
    if (t < static_cast<int32_t>(TokenType::kUndefined) || t > static_cast<int32_t>(TokenType::kByte))
      return Status::Corrupt(TokenLabel(vocab, i) + " has token type " + std::to_string(t) + ", expected 0..6");
    if (std::isnan(vocab.scores[i])) return Status::Corrupt(TokenLabel(vocab, i) + " has a NaN score");
    if (vocab.types[i] == TokenType::kByte) {
      const int b = ParseBytePiece(vocab.pieces[i]);
      if (b < 0) return Status::Corrupt(TokenLabel(vocab, i) + " has type byte but is not spelled <0xXX>");
      bytes_seen[b] = true;
    }
  }
  auto check_id = [n](int32_t id, const char* what) -> Status {
    if (id < -1 || id >= static_cast<int64_t>(n))
      return Status::Corrupt(std::string(what) + " id " + std::to_string(id) + " is outside the vocabulary of " +
                             std::to_string(n) + " tokens");
    return Status::Ok();
  };
  STRATA_RETURN_IF_ERROR(check_id(vocab.bos_id, "BOS"));
  STRATA_RETURN_IF_ERROR(check_id(vocab.eos_id, "EOS"));
  STRATA_RETURN_IF_ERROR(check_id(vocab.unk_id, "unknown-token"));
  if (vocab.unk_id < 0 && !std::all_of(std::begin(bytes_seen), std::end(bytes_seen), [](bool b) { return b; }))
    return Status::Corrupt(
        "the vocabulary has no unknown token and not all 256 byte tokens <0x00>..<0xFF>, so some text "
        "could not be encoded");
  return std::unique_ptr<Tokenizer>(std::make_unique<SpmTokenizer>(std::move(vocab)));
}

}  // namespace strata
