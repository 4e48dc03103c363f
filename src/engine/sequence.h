// The scheduling state of one request: its tokens (prompt, then generated), how many of them are already in
// the KV cache, and the blocks that hold them. The scheduler and KV cache manager work on this alone.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace strata {

struct Sequence {
  std::string id;
  std::vector<int32_t> tokens;  // prompt followed by generated tokens
  int64_t num_prompt = 0;
  int64_t num_computed = 0;     // tokens whose keys/values are in the cache
  std::vector<int32_t> block_table;
  std::vector<uint64_t> block_hashes;  // keys of the leading full blocks registered in the prefix cache
  int64_t num_cached_prefix = 0;       // tokens served from the prefix cache at the last admission
  int num_preemptions = 0;
  // Speculative decoding: draft slots the engine wants after the pending token at the next step (the scheduler
  // reserves cache room and budget for them when it can), and the tokens whose keys and values a draft model
  // holds in its own cache (same block table); both 0 without speculation.
  int32_t lookahead = 0;
  int64_t num_draft_computed = 0;

  int64_t num_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t num_generated() const { return num_tokens() - num_prompt; }
  std::span<const int32_t> generated() const {
    return std::span<const int32_t>(tokens).subspan(static_cast<size_t>(num_prompt));
  }
  std::span<const int32_t> prompt() const { return std::span<const int32_t>(tokens).first(static_cast<size_t>(num_prompt)); }
};

}  // namespace strata
