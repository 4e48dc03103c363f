// The BPE model shared by byte-level vocabularies (GPT-2, Llama 3, Qwen, DeepSeek: every byte spelled as a
// printable character) and SentencePiece-style ones (Gemma 3: "▁" for a space, <0xXX> byte fallback): a word
// is split into characters, then the adjacent pair with the lowest merge rank is merged (leftmost on ties)
// until no merge applies -- the algorithm of Hugging Face `tokenizers`' BPE model.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace strata {

// GPT-2's byte <-> character map: printable Latin-1 bytes stand for themselves, the others (space, controls,
// 0x7F-0xA0, 0xAD) for U+0100.. in byte order, so every byte string becomes a printable word.
const std::string& ByteLevelChar(uint8_t byte);  // UTF-8 of the character byte `byte` maps to
// Appends the bytes `text` stands for when every character of it is a byte-level character; false otherwise
// (`out` is then left as it was).
bool ByteLevelToBytes(std::string_view text, std::string& out);
std::string BytesToByteLevel(std::string_view bytes);

struct BpeModelConfig {
  std::vector<std::string> tokens;  // id -> token text (in the model's alphabet)
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  bool byte_fallback = false;  // a character not in the vocabulary becomes its <0xXX> tokens
  bool ignore_merges = false;  // a word that is itself a token is taken whole (Llama 3)
  bool fuse_unk = false;       // consecutive unknown characters give one unk
  int32_t unk_id = -1;         // -1: characters with no token are dropped, as tokenizers does without unk
};

class BpeModel {
 public:
  BpeModel() = default;
  BpeModel(BpeModel&&) = default;  // ids_ views tokens_' heap buffers, which a move keeps
  BpeModel& operator=(BpeModel&&) = default;
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Validates the config: tokens unique (a repeated one is an error naming it; empty ones are never matched),
  // every merge's two parts and their concatenation in the vocabulary, unk in range.
  static Result<BpeModel> Create(BpeModelConfig config);

  // Appends the ids of one pre-tokenized word.
  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;

  int32_t Find(std::string_view token) const;  // -1 when absent
  const std::string& Token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t ByteFallbackId(uint8_t byte) const { return byte_ids_[byte]; }  // -1 without a <0xXX> token

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    uint32_t len;  // bytes of the word it covers; 0 once merged away
  };
  void InitialSymbols(std::string_view word, std::vector<Symbol>& syms) const;
  void MergeSymbols(std::vector<Symbol>& syms) const;
  const Merge* FindMerge(int32_t left, int32_t right) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string_view, int32_t> ids_;  // views into tokens_
  std::unordered_map<uint64_t, Merge> merges_;         // (left << 32 | right) -> merge
  std::vector<int32_t> char_ids_;  // code point (< kCharTable) -> id of the one-character token, -1 if none
  static constexpr uint32_t kCharTable = 0x800;  // every byte-level character and all of Latin/Greek/Cyrillic
  // Recent words -> ids, as tokenizers' BPE cache: text repeats its words, and a hit skips the merge loop.
  struct WordHash {
    using is_transparent = void;  // find(string_view) without building a std::string
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Cache {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, WordHash, std::equal_to<>> words;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
  int32_t byte_ids_[256];
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
};

}  // namespace strata
