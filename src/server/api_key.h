// The API key check shared by `strata serve` and `strata router`: "Authorization: Bearer <key>", compared in
// constant time so the time taken does not reveal how much of a guessed key was right.
#pragma once

#include <string>
#include <string_view>

namespace strata {

class ApiKeyCheck {
 public:
  explicit ApiKeyCheck(std::string key) : enabled_(!key.empty()), expected_("Bearer " + std::move(key)) {}
  bool enabled() const { return enabled_; }
  // True when no key is configured or `authorization` (the header's value) carries it.
  bool Accepts(std::string_view authorization) const;

 private:
  bool enabled_;
  std::string expected_;
};

// The 401 message both servers send.
inline constexpr const char* kApiKeyMessage = "Invalid or missing API key: send 'Authorization: Bearer <key>'.";

}  // namespace strata
