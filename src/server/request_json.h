// Parsing an untrusted request body into JSON at a bounded cost. Two limits keep a ~1 MB body from costing
// seconds of CPU and hundreds of MB: nesting depth is checked by a byte scan before anything is built, and
// objects have a bounded number of keys, because ordered_json (which keeps key order, needed for schema
// properties) inserts each key with a linear search, so an object of n keys costs O(n^2) (110,000 keys in
// 1.2 MB: 78 s).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace strata {

inline constexpr int kMaxRequestNesting = 128;       // levels of [ and {
inline constexpr size_t kMaxRequestObjectKeys = 1024;  // keys per object

// Deepest nesting of [ / { in `body`, not counting brackets inside strings. Stops counting (returns
// limit + 1) once past `limit`. Malformed JSON is left to the parser.
int JsonNestingDepth(std::string_view body, int limit);

// Parses `body` (key order kept). On failure returns the message for the client.
std::optional<std::string> ParseRequestJson(const std::string& body, nlohmann::ordered_json& out);

}  // namespace strata
