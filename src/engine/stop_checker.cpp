#include "engine/stop_checker.h"

#include <algorithm>
#include <utility>

namespace strata {

StopChecker::StopChecker(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase(stops_, std::string());
}

std::string StopChecker::Push(std::string_view text) {
  if (stopped_) return "";
  pending_ += text;
  if (stops_.empty()) return std::exchange(pending_, "");
  // Earliest match wins (ties: the longer stop string, so the cut is the same either way).
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = pending_.find(s);
    if (at < cut || (at == cut && at != std::string::npos && s.size() > matched_.size())) cut = at, matched_ = s;
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_)
    for (size_t len = std::min(s.size() - 1, pending_.size()); len > hold; --len)
      if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopChecker::Flush() {
  if (stopped_) return "";
  return std::exchange(pending_, "");
}

}  // namespace strata
