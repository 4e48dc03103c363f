#include "engine/kv_cache_manager.h"

#include <span>

namespace strata {
namespace {

std::span<const int32_t> BlockTokens(const Sequence& s, size_t block, int32_t block_size) {
  return std::span<const int32_t>(s.tokens).subspan(block * static_cast<size_t>(block_size),
                                                    static_cast<size_t>(block_size));
}

}  // namespace

KvCacheManager::KvCacheManager(int32_t num_blocks, int32_t block_size, bool prefix_caching)
    : pool_(num_blocks), block_size_(block_size), prefix_caching_(prefix_caching) {}

int64_t KvCacheManager::ClaimCachedPrefix(Sequence& s) {
  s.num_cached_prefix = 0;
  if (!prefix_caching_ || !s.block_table.empty()) return 0;
  const auto max_blocks = static_cast<size_t>((s.num_tokens() - 1) / block_size_);
  uint64_t parent = 0;
  for (size_t b = 0; b < max_blocks; ++b) {
    const BlockKey key = MakeBlockKey(parent, BlockTokens(s, b, block_size_));
    const int32_t block = pool_.Lookup(key);
    if (block < 0) break;
    pool_.Touch(block);
    s.block_table.push_back(block);
    s.block_hashes.push_back(key.hash);
    parent = key.hash;
  }
  s.num_cached_prefix = static_cast<int64_t>(s.block_table.size()) * block_size_;
  return s.num_cached_prefix;
}

bool KvCacheManager::Allocate(Sequence& s, int64_t n) {
  const int32_t need = BlocksFor(s.num_computed + n) - static_cast<int32_t>(s.block_table.size());
  if (need <= 0) return true;
  auto blocks = pool_.Allocate(need);
  if (!blocks) return false;
  s.block_table.insert(s.block_table.end(), blocks->begin(), blocks->end());
  return true;
}

void KvCacheManager::CacheFullBlocks(Sequence& s) {
  if (!prefix_caching_) return;
  const auto full = static_cast<size_t>(s.num_computed / block_size_);
  for (size_t b = s.block_hashes.size(); b < full && b < s.block_table.size(); ++b) {
    const uint64_t parent = b == 0 ? 0 : s.block_hashes[b - 1];
    const BlockKey key = MakeBlockKey(parent, BlockTokens(s, b, block_size_));
    pool_.Cache(s.block_table[b], key);
    s.block_hashes.push_back(key.hash);
  }
}

void KvCacheManager::Free(Sequence& s) {
  pool_.Free(s.block_table);
  s.block_table.clear();
  s.block_hashes.clear();
}

}  // namespace strata
