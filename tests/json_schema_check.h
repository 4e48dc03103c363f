// A validator for the JSON Schema subset the structured-output tests use, written independently of the
// engine's grammar so the tests do not check the engine against itself.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace strata::testing {

using nlohmann::json;

// Validates the JSON Schema subset the tests use; returns "" when valid, else what is wrong.
inline std::string Validate(const json& v, const json& s, const std::string& path = "$") {
  if (s.contains("enum")) {
    for (const json& e : s["enum"])
      if (e == v) return "";
    return path + ": not in enum";
  }
  if (s.contains("type") && s["type"].is_array()) {
    for (const json& t : s["type"]) {
      json one = s;
      one["type"] = t;
      if (Validate(v, one, path).empty()) return "";
    }
    return path + ": matches none of the types";
  }
  const std::string type = s.value("type", "");
  if (type == "null") return v.is_null() ? "" : path + ": not null";
  if (type == "boolean") return v.is_boolean() ? "" : path + ": not a boolean";
  if (type == "integer") {
    if (!v.is_number_integer()) return path + ": not an integer";
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) return path + ": below minimum";
    return "";
  }
  if (type == "number") return v.is_number() ? "" : path + ": not a number";
  if (type == "string") {
    if (!v.is_string()) return path + ": not a string";
    const std::string str = v.get<std::string>();
    size_t chars = 0;
    for (unsigned char c : str) chars += (c & 0xC0) != 0x80;
    if (s.contains("maxLength") && chars > s["maxLength"].get<size_t>()) return path + ": too long";
    return "";
  }
  if (type == "array") {
    if (!v.is_array()) return path + ": not an array";
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return path + ": too few items";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return path + ": too many items";
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = Validate(v[i], s["items"], path + "[" + std::to_string(i) + "]"); !e.empty()) return e;
    return "";
  }
  if (type == "object") {
    if (!v.is_object()) return path + ": not an object";
    for (const json& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return path + ": missing " + r.get<std::string>();
    for (const auto& [k, sub] : v.items()) {
      if (!s["properties"].contains(k)) return path + ": unexpected key " + k;
      if (auto e = Validate(sub, s["properties"][k], path + "." + k); !e.empty()) return e;
    }
    return "";
  }
  return path + ": schema type not handled by the test validator";
}

}  // namespace strata::testing
