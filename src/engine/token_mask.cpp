#include "engine/token_mask.h"

#include <algorithm>

namespace strata {

TokenTrie::TokenTrie(const Tokenizer& tok) : nodes_(1), n_vocab_(tok.n_vocab()) {
  for (int32_t id = 0; id < n_vocab_; ++id) Insert(tok.TokenBytes(id), id);
}

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes)
    : nodes_(1), n_vocab_(static_cast<int32_t>(token_bytes.size())) {
  for (int32_t id = 0; id < n_vocab_; ++id) Insert(token_bytes[static_cast<size_t>(id)], id);
}

void TokenTrie::Insert(const std::string& bytes, int32_t id) {
  if (bytes.empty()) return;
  int32_t cur = 0;
  for (char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    int32_t next = -1;
    for (auto [b, child] : nodes_[static_cast<size_t>(cur)].children)
      if (b == c) next = child;
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[static_cast<size_t>(cur)].children.emplace_back(c, next);
      nodes_.emplace_back();
    }
    cur = next;
  }
  nodes_[static_cast<size_t>(cur)].tokens.push_back(id);
}

// Depth-first over the trie with one matcher per depth: a child starts from a copy of its parent's state made
// into a reused buffer (no allocation once warm), and a rejected byte skips the child's whole subtree.
class TokenMaskWalker {
 public:
  TokenMaskWalker(const TokenTrie& trie, std::vector<uint8_t>& allowed, int64_t budget)
      : trie_(trie), allowed_(allowed), budget_(budget) {}

  void Run(const JsonMatcher& m) {
    if (budget_ >= 0) {
      slack_ = budget_ - 1 - m.MinBytesToComplete();
      rise_ = m.grammar().max_rise_per_byte();
    }
    if (levels_.empty()) levels_.push_back(m);
    levels_[0].CopyStateFrom(m);
    Walk(0, 0);
  }
  int64_t least_cost() const { return least_cost_; }  // the smallest rest any continuing token leaves

 private:
  void Walk(int32_t node, size_t depth) {
    if (levels_.size() <= depth + 1) levels_.push_back(levels_[depth]);
    for (auto [byte, child] : trie_.node(node).children) {
      JsonMatcher& next = levels_[depth + 1];
      next.CopyStateFrom(levels_[depth]);
      if (!next.AcceptByte(byte)) continue;
      bool fits = true;
      // A token of depth+1 bytes raises the rest by at most that many times the grammar's bound per byte.
      if (budget_ >= 0 && !trie_.node(child).tokens.empty() &&
          static_cast<int64_t>(depth + 1) * rise_ > slack_) {
        const int64_t cost = next.MinBytesToComplete();
        least_cost_ = std::min(least_cost_, cost);
        fits = cost <= budget_ - 1;
      }
      if (fits)
        for (int32_t id : trie_.node(child).tokens) allowed_[static_cast<size_t>(id)] = 1;
      if (!trie_.node(child).children.empty()) Walk(child, depth + 1);
    }
  }

  const TokenTrie& trie_;
  std::vector<uint8_t>& allowed_;
  int64_t budget_;
  std::vector<JsonMatcher> levels_;
  int64_t least_cost_ = int64_t{1} << 40;
  int64_t slack_ = 0, rise_ = 0;
};

void ComputeTokenMask(const JsonMatcher& m, const TokenTrie& trie, int32_t eos_id, std::vector<uint8_t>& allowed,
                      int64_t budget) {
  allowed.assign(static_cast<size_t>(trie.n_vocab()), 0);
  TokenMaskWalker walker(trie, allowed, budget);
  walker.Run(m);
  // Over budget already (a budget below the schema's shortest document): head for the end as fast as it goes.
  if (budget >= 0 && !m.IsComplete() && std::find(allowed.begin(), allowed.end(), 1) == allowed.end() &&
      walker.least_cost() < (int64_t{1} << 40)) {
    TokenMaskWalker closest(trie, allowed, walker.least_cost() + 1);
    closest.Run(m);
  }
  if (eos_id < 0 || eos_id >= trie.n_vocab()) return;
  const bool any = std::find(allowed.begin(), allowed.end(), 1) != allowed.end();
  // A dead end (no token can continue, e.g. a nesting limit met with items still required) ends the output
  // rather than leaving the sampler nothing to choose.
  allowed[static_cast<size_t>(eos_id)] = m.IsComplete() || !any ? 1 : 0;
}

}  // namespace strata
