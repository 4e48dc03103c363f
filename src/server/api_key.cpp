#include "server/api_key.h"

#include <algorithm>

namespace strata {

// Compares without an early exit.
bool ApiKeyCheck::Accepts(std::string_view a) const {
  if (!enabled_) return true;
  const std::string_view b = expected_;
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

}  // namespace strata
