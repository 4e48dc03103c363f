#include "server/request_json.h"

#include <vector>

namespace strata {

int JsonNestingDepth(std::string_view body, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return limit + 1;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

std::optional<std::string> ParseRequestJson(const std::string& body, nlohmann::ordered_json& out) {
  using ordered_json = nlohmann::ordered_json;
  if (JsonNestingDepth(body, kMaxRequestNesting) > kMaxRequestNesting)
    return "the request body nests JSON arrays/objects deeper than " + std::to_string(kMaxRequestNesting) + " levels";
  // Keys past the budget are dropped before they are inserted (the callback runs first), so the parse stays
  // cheap; the request is then refused.
  std::vector<uint64_t> keys;  // per open object
  uint64_t comparisons = 0;
  bool too_many_keys = false;
  auto cb = [&](int, ordered_json::parse_event_t ev, ordered_json&) {
    switch (ev) {
      case ordered_json::parse_event_t::object_start: keys.push_back(0); return true;
      case ordered_json::parse_event_t::object_end: if (!keys.empty()) keys.pop_back(); return true;
      case ordered_json::parse_event_t::key:
        if (!keys.empty() && (comparisons += keys.back()++) > kMaxKeyComparisons) too_many_keys = true;
        return !too_many_keys;
      default: return true;
    }
  };
  out = ordered_json::parse(body, cb, /*allow_exceptions=*/false);
  if (out.is_discarded()) return "the request body is not valid JSON";
  if (too_many_keys)
    return "the request body's JSON objects have too many keys (one object may have about 8000)";
  return std::nullopt;
}

}  // namespace strata
