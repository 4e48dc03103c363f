#include "runtime/kv_cache.h"

namespace strata {

KvCache::KvCache(const ir::KvCacheSpec& spec)
    : spec_(spec),
      k_(static_cast<size_t>(spec.n_layers * spec.n_ctx * spec.kv_dim)),
      v_(static_cast<size_t>(spec.n_layers * spec.n_ctx * spec.kv_dim)) {}

}  // namespace strata
