#include "engine/token_mask.h"

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

namespace {

void Walk(const TokenTrie& trie, int32_t node, const JsonMatcher& m, std::vector<uint8_t>& allowed) {
  for (auto [byte, child] : trie.node(node).children) {
    JsonMatcher next = m;
    if (!next.AcceptByte(byte)) continue;
    for (int32_t id : trie.node(child).tokens) allowed[static_cast<size_t>(id)] = 1;
    Walk(trie, child, next, allowed);
  }
}

}  // namespace

void ComputeTokenMask(const JsonMatcher& m, const TokenTrie& trie, int32_t eos_id, std::vector<uint8_t>& allowed) {
  allowed.assign(static_cast<size_t>(trie.n_vocab()), 0);
  Walk(trie, 0, m, allowed);
  if (eos_id >= 0 && eos_id < trie.n_vocab()) allowed[static_cast<size_t>(eos_id)] = m.IsComplete() ? 1 : 0;
}

}  // namespace strata
