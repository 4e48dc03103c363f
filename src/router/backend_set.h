// The backends in rotation: a list that --backends-file may change while requests are in flight. Readers take
// a snapshot (shared pointers), so a backend removed from the file lives on until its last request ends.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "router/backend.h"

namespace strata {

inline constexpr size_t kMaxBackends = 1024;

// One URL per line; blank lines and lines starting with '#' are skipped. At most kMaxBackends, 1 MiB.
Result<std::vector<BackendAddress>> ReadBackendsFile(const std::string& path);

class BackendSet {
 public:
  BackendList Snapshot() const;
  // Keeps the backends whose URL stays (with their health and statistics), adds the new, drops the rest.
  void Replace(const std::vector<BackendAddress>& addresses);

 private:
  mutable std::mutex mu_;
  BackendList backends_;
};

}  // namespace strata
