#include "runtime/packed_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

namespace strata {
namespace {

std::atomic<bool> g_release{false};
std::atomic<int64_t> g_released{0};

struct Entry {
  std::weak_ptr<const void> storage;                  // the source's owner: when it dies the entry is stale
  std::weak_ptr<const kernels::PackedWeight> shared;  // while some executor holds it
  std::shared_ptr<const kernels::PackedWeight> kept;  // once the source is released
};

using Key = std::tuple<const void*, int64_t, uint32_t>;  // bytes, size, dtype

std::mutex g_mu;
std::map<Key, Entry>& Entries() {
  static std::map<Key, Entry> entries;
  return entries;
}

// Drops entries whose source is gone (its address may be reused by another model).
void Purge(std::map<Key, Entry>& entries) {
  for (auto it = entries.begin(); it != entries.end();)
    it = it->second.storage.expired() ? entries.erase(it) : std::next(it);
}

// The whole pages inside [p, p + n): given back (MADV_DONTNEED; anonymous memory reads back as zeros after this,
// a file mapping re-reads the file, which is why nothing may read them again).
void ReleasePages(const void* p, int64_t n) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(n)) / page * page;
  if (end <= begin) return;
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) == 0)
    g_released += static_cast<int64_t>(end - begin);
}

}  // namespace

void SetReleasePackedSources(bool on) { g_release = on; }
bool ReleasePackedSources() { return g_release; }
int64_t ReleasedSourceBytes() { return g_released; }

std::shared_ptr<const kernels::PackedWeight> SharedPack(const Tensor& w, bool may_release) {
  if (!w.storage()) return kernels::PackedWeight::Pack(w);  // nothing says how long the bytes live: no sharing
  const Key key{w.data(), w.nbytes(), static_cast<uint32_t>(w.dtype())};
  {
    std::lock_guard lock(g_mu);
    auto& entries = Entries();
    Purge(entries);
    if (auto it = entries.find(key); it != entries.end()) {
      if (it->second.kept) return it->second.kept;
      if (auto p = it->second.shared.lock()) return p;
    }
  }
  // Packing is the slow part and runs outside the lock (weights of one plan pack in parallel); two executors
  // packing the same weight at once both pack, and the first to register wins.
  std::shared_ptr<const kernels::PackedWeight> packed = kernels::PackedWeight::Pack(w);
  if (!packed) return nullptr;
  std::lock_guard lock(g_mu);
  Entry& e = Entries()[key];
  if (e.kept) return e.kept;
  if (auto p = e.shared.lock()) return p;
  e.storage = w.storage();
  e.shared = packed;
  if (may_release && g_release) {
    e.kept = packed;
    ReleasePages(w.data(), w.nbytes());
  }
  return packed;
}

}  // namespace strata
