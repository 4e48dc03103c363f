// Which tokens may come next under a JsonMatcher: the vocabulary's token bytes in a trie, walked depth-first
// with the matcher so a rejected byte prunes every token sharing that prefix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/json_grammar.h"
#include "model/tokenizer.h"

namespace strata {

class TokenTrie {
 public:
  explicit TokenTrie(const Tokenizer& tok);
  explicit TokenTrie(const std::vector<std::string>& token_bytes);  // token id = index

  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;
    std::vector<int32_t> tokens;  // tokens whose bytes end here
  };
  const Node& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  void Insert(const std::string& bytes, int32_t id);
  std::vector<Node> nodes_;
  int32_t n_vocab_ = 0;
};

// allowed[id] = 1 when token id keeps the output valid; EOS only once the value is complete. Tokens with no
// bytes (control tokens) are never allowed, except EOS.
void ComputeTokenMask(const JsonMatcher& m, const TokenTrie& trie, int32_t eos_id, std::vector<uint8_t>& allowed);

}  // namespace strata
