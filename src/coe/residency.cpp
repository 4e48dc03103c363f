#include "coe/residency.h"

namespace strata::coe {

void Residency::Add(int expert, int64_t bytes) {
  if (contains(expert)) Remove(expert);
  order_.push_back(expert);
  where_[expert] = {bytes, std::prev(order_.end())};
  used_ += bytes;
}

void Residency::Remove(int expert) {
  auto it = where_.find(expert);
  if (it == where_.end()) return;
  used_ -= it->second.bytes;
  order_.erase(it->second.pos);
  where_.erase(it);
}

void Residency::Touch(int expert) {
  auto it = where_.find(expert);
  if (it == where_.end()) return;
  order_.splice(order_.end(), order_, it->second.pos);
}

std::optional<std::vector<int>> Residency::Victims(int64_t need, const std::function<bool(int)>& evictable) const {
  std::vector<int> victims;
  int64_t free = budget_ - used_;
  for (int e : order_) {
    if (free >= need) break;
    if (!evictable(e)) continue;
    victims.push_back(e);
    free += where_.at(e).bytes;
  }
  if (free < need) return std::nullopt;
  return victims;
}

}  // namespace strata::coe
