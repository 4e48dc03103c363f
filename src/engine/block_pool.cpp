#include "engine/block_pool.h"

namespace strata {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  // splitmix64 finaliser over a running xor: cheap, well distributed, and collisions are checked anyway.
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

BlockKey MakeBlockKey(uint64_t parent, std::span<const int32_t> tokens) {
  uint64_t h = Mix(0x5374726174614b56ULL, parent);
  for (int32_t t : tokens) h = Mix(h, static_cast<uint32_t>(t));
  return {h, parent, std::vector<int32_t>(tokens.begin(), tokens.end())};
}

BlockPool::BlockPool(int32_t num_blocks) : blocks_(static_cast<size_t>(num_blocks)) {
  for (int32_t b = 0; b < num_blocks; ++b) PushBack(b);
}

void BlockPool::PushBack(int32_t b) {
  Block& blk = blocks_[static_cast<size_t>(b)];
  blk.prev = tail_;
  blk.next = -1;
  if (tail_ >= 0) blocks_[static_cast<size_t>(tail_)].next = b; else head_ = b;
  tail_ = b;
  ++num_free_;
}

void BlockPool::Unlink(int32_t b) {
  Block& blk = blocks_[static_cast<size_t>(b)];
  if (blk.prev >= 0) blocks_[static_cast<size_t>(blk.prev)].next = blk.next; else head_ = blk.next;
  if (blk.next >= 0) blocks_[static_cast<size_t>(blk.next)].prev = blk.prev; else tail_ = blk.prev;
  blk.prev = blk.next = -1;
  --num_free_;
}

void BlockPool::Evict(int32_t b) {
  Block& blk = blocks_[static_cast<size_t>(b)];
  if (!blk.cached) return;
  auto [first, last] = cache_.equal_range(blk.key.hash);
  for (auto it = first; it != last; ++it)
    if (it->second == b) {
      cache_.erase(it);
      break;
    }
  blk.cached = false;
  blk.key = {};
}

std::optional<std::vector<int32_t>> BlockPool::Allocate(int32_t n) {
  if (n > num_free_) return std::nullopt;
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    const int32_t b = head_;
    Unlink(b);
    Evict(b);
    blocks_[static_cast<size_t>(b)].refs = 1;
    out.push_back(b);
  }
  return out;
}

void BlockPool::Free(std::span<const int32_t> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    Block& blk = blocks_[static_cast<size_t>(*it)];
    if (--blk.refs == 0) PushBack(*it);
  }
}

int32_t BlockPool::Lookup(const BlockKey& key) const {
  auto [first, last] = cache_.equal_range(key.hash);
  for (auto it = first; it != last; ++it)
    if (blocks_[static_cast<size_t>(it->second)].key == key) return it->second;
  return -1;
}

void BlockPool::Touch(int32_t block) {
  Block& blk = blocks_[static_cast<size_t>(block)];
  if (blk.refs++ == 0) Unlink(block);
}

void BlockPool::Cache(int32_t block, const BlockKey& key) {
  Block& blk = blocks_[static_cast<size_t>(block)];
  if (blk.cached || Lookup(key) >= 0) return;
  blk.key = key;
  blk.cached = true;
  cache_.emplace(key.hash, block);
}

}  // namespace strata
