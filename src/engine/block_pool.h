// The KV cache's blocks as a resource: reference counts, a free queue in LRU order, and the prefix cache (full
// blocks found by the hash of their tokens and everything before them). Blocks with no users stay in the
// prefix cache until they are handed out again, oldest first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace strata {

// Identity of a full block: the hash of its parent's key and its own tokens. The tokens are kept so a hash
// collision can never hand a sequence someone else's keys.
struct BlockKey {
  uint64_t hash = 0;
  uint64_t parent = 0;
  std::vector<int32_t> tokens;
  bool operator==(const BlockKey&) const = default;
};

// Hash chaining a block's tokens onto its parent's hash (0 for the first block).
BlockKey MakeBlockKey(uint64_t parent, std::span<const int32_t> tokens);

class BlockPool {
 public:
  explicit BlockPool(int32_t num_blocks);

  // Takes n blocks from the free queue (evicting their cached keys), each with one reference; nullopt, and
  // nothing taken, when fewer than n are free.
  std::optional<std::vector<int32_t>> Allocate(int32_t n);
  // Drops one reference from each block; a block reaching zero goes to the back of the free queue. Blocks are
  // released in reverse so a sequence's tail is evicted before its (more shareable) head.
  void Free(std::span<const int32_t> blocks);

  // The cached block holding `key`, or -1.
  int32_t Lookup(const BlockKey& key) const;
  // Adds a reference to a cached block (taking it off the free queue if it had none).
  void Touch(int32_t block);
  // Registers a now-full block under `key` (no-op if the key is already cached by another block).
  void Cache(int32_t block, const BlockKey& key);

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t num_free() const { return num_free_; }
  int32_t ref_count(int32_t block) const { return blocks_[static_cast<size_t>(block)].refs; }
  // Fraction of blocks in use (cached-but-unused blocks count as free, as in vLLM).
  double usage() const { return 1.0 - static_cast<double>(num_free_) / static_cast<double>(blocks_.size()); }
  int64_t num_cached() const { return static_cast<int64_t>(cache_.size()); }

 private:
  struct Block {
    int32_t refs = 0;
    int32_t prev = -1, next = -1;  // free-queue links
    bool cached = false;
    BlockKey key;
  };
  void PushBack(int32_t b);
  void Unlink(int32_t b);
  void Evict(int32_t b);

  std::vector<Block> blocks_;
  int32_t head_ = -1, tail_ = -1, num_free_ = 0;
  std::unordered_multimap<uint64_t, int32_t> cache_;
};

}  // namespace strata
