// Maps sequences onto the block pool: grows block tables as tokens are scheduled, claims cached blocks of a
// shared prefix when a sequence is admitted, registers blocks once they are full, and gives everything back.
#pragma once

#include <cstdint>

#include "engine/block_pool.h"
#include "engine/sequence.h"

namespace strata {

class KvCacheManager {
 public:
  KvCacheManager(int32_t num_blocks, int32_t block_size, bool prefix_caching);

  // Points the sequence's first blocks at cached blocks of its longest cached prefix (whole blocks only, and
  // always leaving at least one token to compute so there are logits to sample from). Returns the tokens
  // covered; the sequence must hold no blocks yet.
  int64_t ClaimCachedPrefix(Sequence& s);
  // Grows the block table to hold num_computed + n tokens. False (and nothing changed) when the pool is short.
  bool Allocate(Sequence& s, int64_t n);
  // Registers the sequence's blocks that are full of computed tokens in the prefix cache.
  void CacheFullBlocks(Sequence& s);
  // Releases every block of the sequence.
  void Free(Sequence& s);

  int32_t block_size() const { return block_size_; }
  int32_t BlocksFor(int64_t tokens) const { return static_cast<int32_t>((tokens + block_size_ - 1) / block_size_); }
  const BlockPool& pool() const { return pool_; }
  bool prefix_caching() const { return prefix_caching_; }

 private:
  BlockPool pool_;
  int32_t block_size_;
  bool prefix_caching_;
};

}  // namespace strata
