// Which tokens may come next under a JsonMatcher: the vocabulary's token bytes in a trie, walked depth-first
// with the matcher so a rejected byte prunes every token sharing that prefix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/json_matcher.h"
#include "model/tokenizer.h"

namespace strata {

// The token bytes of a vocabulary as a trie, built once per model (about 10 ms for 32000 tokens); tokens with
// no bytes (control tokens) are left out.
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

// budget >= 0: tokens left (this one included); a token is allowed only if the document can still be
// closed within the rest, so output cut by max_tokens is complete JSON (if no token qualifies, the budget
// is ignored).
// allowed[id] = 1 when token id keeps the output valid; EOS only once the value is complete. Tokens with no
// bytes (control tokens) are never allowed, except EOS. Should no token at all fit (a dead end of the grammar),
// EOS is allowed so the sampler always has a choice. Cost: about the size of the trie's part that stays a
// valid prefix; inside a string that is most of it.
void ComputeTokenMask(const JsonMatcher& m, const TokenTrie& trie, int32_t eos_id, std::vector<uint8_t>& allowed,
                      int64_t budget = -1);

}  // namespace strata
