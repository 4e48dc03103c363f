// BPE merges by rank over a linked list of symbols with a min-heap of candidate pairs: O(n log n) per word,
// so a 50 KB word without spaces (Gemma 3's pre-tokenizer keeps whole texts as one word) stays fast.
#include "model/bpe_model.h"

#include <array>
#include <cstdio>
#include <queue>

#include "model/tokenizer.h"

namespace strata {
namespace {

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

struct ByteLevelTables {
  std::array<std::string, 256> chars;
  std::array<int16_t, 0x200> byte_of;  // code point (< 0x200) -> byte, -1 when not a byte-level character
  ByteLevelTables() {
    byte_of.fill(-1);
    uint32_t extra = 0x100;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? b : extra++;
      chars[b] = Utf8(cp);
      byte_of[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelTables& Tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

const std::string& ByteLevelChar(uint8_t byte) { return Tables().chars[byte]; }

bool ByteLevelToBytes(std::string_view text, std::string& out) {
  const auto& t = Tables();
  const size_t start = out.size();
  for (size_t i = 0; i < text.size();) {
    const auto c0 = static_cast<uint8_t>(text[i]);
    uint32_t cp = 0x200;
    if (c0 < 0x80) {
      cp = c0;
      i += 1;
    } else if ((c0 & 0xE0) == 0xC0 && i + 1 < text.size()) {
      cp = ((c0 & 0x1Fu) << 6) | (static_cast<uint8_t>(text[i + 1]) & 0x3Fu);
      i += 2;
    }
    if (cp >= 0x200 || t.byte_of[cp] < 0) {
      out.resize(start);
      return false;
    }
    out += static_cast<char>(t.byte_of[cp]);
  }
  return true;
}

std::string BytesToByteLevel(std::string_view bytes) {
  const auto& chars = Tables().chars;
  std::string s;
  s.reserve(bytes.size() * 2);
  for (char c : bytes) s += chars[static_cast<uint8_t>(c)];
  return s;
}

Result<BpeModel> BpeModel::Create(BpeModelConfig config) {
  BpeModel m;
  m.tokens_ = std::move(config.tokens);
  m.byte_fallback_ = config.byte_fallback;
  m.ignore_merges_ = config.ignore_merges;
  m.fuse_unk_ = config.fuse_unk;
  m.unk_id_ = config.unk_id;
  if (m.tokens_.empty()) return Status::Corrupt("the vocabulary is empty");
  if (m.tokens_.size() > 0x7FFFFFFF) return Status::Corrupt("the vocabulary has more than 2^31 tokens");
  if (m.unk_id_ < -1 || m.unk_id_ >= m.size())
    return Status::Corrupt("unknown-token id " + std::to_string(m.unk_id_) + " is outside the vocabulary");
  m.ids_.reserve(m.tokens_.size());
  for (size_t i = 0; i < m.tokens_.size(); ++i) {
    const std::string& t = m.tokens_[i];
    if (t.empty()) continue;  // an unused slot some converters leave: it can be decoded (to nothing), never matched
    const auto [it, fresh] = m.ids_.emplace(t, static_cast<int32_t>(i));
    if (!fresh)
      return Status::Corrupt("token '" + t + "' appears twice in the vocabulary (ids " + std::to_string(it->second) +
                             " and " + std::to_string(i) + ")");
  }
  m.merges_.reserve(config.merges.size());
  for (size_t rank = 0; rank < config.merges.size(); ++rank) {
    const auto& [a, b] = config.merges[rank];
    const int32_t left = m.Find(a), right = m.Find(b), result = m.Find(a + b);
    const char* missing = left < 0 ? "its left part" : right < 0 ? "its right part" : result < 0 ? "its result" : nullptr;
    if (missing != nullptr)
      return Status::Corrupt("merge " + std::to_string(rank) + " ('" + a + "' '" + b + "'): " + missing +
                             " is not in the vocabulary");
    const uint64_t key = (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
    m.merges_.emplace(key, Merge{static_cast<int32_t>(rank), result});  // a repeated pair keeps its first rank
  }
  m.char_ids_.assign(kCharTable, -1);
  for (uint32_t cp = 0; cp < kCharTable; ++cp) m.char_ids_[cp] = m.Find(Utf8(cp));
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    m.byte_ids_[b] = m.Find(name);
  }
  return m;
}

int32_t BpeModel::Find(std::string_view token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const BpeModel::Merge* BpeModel::FindMerge(int32_t left, int32_t right) const {
  const auto it = merges_.find((static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right));
  return it == merges_.end() ? nullptr : &it->second;
}

// One symbol per character; characters without a token become byte-fallback tokens, else unk (fused when
// asked), else nothing.
void BpeModel::InitialSymbols(std::string_view word, std::vector<Symbol>& syms) const {
  bool last_unk = false;
  for (size_t i = 0; i < word.size();) {
    size_t len = Utf8CharLength(word.substr(i));
    if (len == 0) len = 1;
    const std::string_view ch = word.substr(i, len);
    i += len;
    const auto c0 = static_cast<uint8_t>(ch[0]);
    const int32_t id = len == 1   ? char_ids_[c0]
                       : len == 2 ? char_ids_[((c0 & 0x1Fu) << 6) | (static_cast<uint8_t>(ch[1]) & 0x3Fu)]
                                  : Find(ch);
    if (id >= 0) {
      syms.push_back({id, -1, -1, static_cast<uint32_t>(len)});
      last_unk = false;
      continue;
    }
    bool spelled = byte_fallback_;
    for (char c : ch) spelled = spelled && byte_ids_[static_cast<uint8_t>(c)] >= 0;
    if (spelled) {
      for (char c : ch) syms.push_back({byte_ids_[static_cast<uint8_t>(c)], -1, -1, 1});
      last_unk = false;
      continue;
    }
    if (unk_id_ < 0) continue;
    if (fuse_unk_ && last_unk) {
      syms.back().len += static_cast<uint32_t>(len);
    } else {
      syms.push_back({unk_id_, -1, -1, static_cast<uint32_t>(len)});
    }
    last_unk = true;
  }
  for (size_t k = 0; k < syms.size(); ++k) {
    syms[k].prev = static_cast<int32_t>(k) - 1;
    syms[k].next = k + 1 < syms.size() ? static_cast<int32_t>(k + 1) : -1;
  }
}

void BpeModel::MergeSymbols(std::vector<Symbol>& syms) const {
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t pos) {
    const int32_t next = syms[static_cast<size_t>(pos)].next;
    if (next < 0) return;
    if (const Merge* m = FindMerge(syms[static_cast<size_t>(pos)].id, syms[static_cast<size_t>(next)].id))
      queue.push({m->rank, pos, m->result});
  };
  for (size_t k = 0; k + 1 < syms.size(); ++k) consider(static_cast<int32_t>(k));
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = syms[static_cast<size_t>(top.pos)];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = syms[static_cast<size_t>(left.next)];
    const Merge* m = FindMerge(left.id, right.id);
    if (m == nullptr || m->result != top.result) continue;  // a stale entry: a neighbour has changed
    left.id = top.result;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) syms[static_cast<size_t>(left.next)].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
}

void BpeModel::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  constexpr size_t kMaxCachedWord = 64, kMaxCachedWords = 1 << 16;
  const bool cacheable = word.size() <= kMaxCachedWord;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mu);
    const auto it = cache_->words.find(word);
    if (it != cache_->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  const int32_t whole = ignore_merges_ ? Find(word) : -1;
  if (whole >= 0) {
    out.push_back(whole);
  } else {
    std::vector<Symbol> syms;
    syms.reserve(word.size());
    InitialSymbols(word, syms);
    MergeSymbols(syms);
    for (const Symbol& s : syms)
      if (s.len != 0) out.push_back(s.id);
  }
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mu);
    if (cache_->words.size() >= kMaxCachedWords) cache_->words.clear();  // bounded: a crude but cheap policy
    cache_->words.emplace(std::string(word),
                          std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
  }
}

}  // namespace strata
