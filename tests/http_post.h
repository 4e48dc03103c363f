// POST a JSON body with an optional API key; the status and the parsed body (null when not JSON; status -1
// when no answer came). Shared by the server and router test harnesses.
#pragma once

#include <httplib.h>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace strata::testing {

inline std::pair<int, nlohmann::json> PostJson(httplib::Client& c, const std::string& path, const std::string& body,
                                               const std::string& key = "") {
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  auto res = c.Post(path.c_str(), h, body, "application/json");
  if (!res) return {-1, nullptr};
  return {res->status, nlohmann::json::parse(res->body, nullptr, false)};
}

}  // namespace strata::testing
