// Parsing an untrusted request body into JSON at a bounded cost. Two limits keep a body of a few MB from
// costing seconds of CPU and hundreds of MB: nesting depth is checked by a byte scan before anything is built,
// and so is the work of inserting keys, because ordered_json (which keeps key order, needed for schema
// properties) inserts each key with a linear search over its object's keys, so an object of n keys costs
// O(n^2) (one of 110,000 keys, 1.2 MB, took 78 s). The budget of key comparisons allows one object of about
// 8,000 keys, or many smaller ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace strata {

inline constexpr int kMaxRequestNesting = 128;       // levels of [ and {
inline constexpr uint64_t kMaxKeyComparisons = uint64_t{1} << 25;  // sum over keys of the keys before them

// Deepest nesting of [ / { in `body`, not counting brackets inside strings. Stops counting (returns
// limit + 1) once past `limit`. Malformed JSON is left to the parser.
int JsonNestingDepth(std::string_view body, int limit);

// Parses `body` (key order kept). On failure returns the message for the client.
std::optional<std::string> ParseRequestJson(const std::string& body, nlohmann::ordered_json& out);

}  // namespace strata
