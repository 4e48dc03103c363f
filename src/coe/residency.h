// Which experts hold RAM-tier memory, within a byte budget, least recently used first out. Pure bookkeeping
// (the CoE engine's loop thread owns it): an expert is added when its load starts (its bytes reserved) and
// removed when evicted; Victims picks whom to evict for a new load among those the caller says may go
// (never one with requests in flight).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

namespace strata::coe {

class Residency {
 public:
  explicit Residency(int64_t budget) : budget_(budget) {}

  void Add(int expert, int64_t bytes);  // most recently used
  void Remove(int expert);
  void Touch(int expert);               // most recently used now (ignored when not resident)
  bool contains(int expert) const { return where_.contains(expert); }
  int64_t used() const { return used_; }
  int64_t budget() const { return budget_; }
  // Least recently used first.
  std::vector<int> LruOrder() const { return {order_.begin(), order_.end()}; }
  // The experts to evict, least recently used first, so that `need` more bytes fit; only those `evictable`
  // allows are taken. Nullopt when evicting all of those would not make room (the load waits).
  std::optional<std::vector<int>> Victims(int64_t need, const std::function<bool(int)>& evictable) const;

 private:
  struct Entry {
    int64_t bytes;
    std::list<int>::iterator pos;
  };
  int64_t budget_;
  int64_t used_ = 0;
  std::list<int> order_;  // front: least recently used
  std::unordered_map<int, Entry> where_;
};

}  // namespace strata::coe
