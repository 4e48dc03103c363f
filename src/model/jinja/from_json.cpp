#include "model/jinja/from_json.h"

#include <cstdint>
#include <string>

namespace strata::jinja {

namespace {

Result<Value> Convert(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxJsonValueDepth)
    return Status::InvalidArgument("JSON value nests deeper than " + std::to_string(kMaxJsonValueDepth) + " levels");
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::None();
    case nlohmann::json::value_t::boolean: return Value::Bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::Int(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX))
        return Status::OutOfRange("JSON integer " + std::to_string(u) + " does not fit a 64-bit signed integer");
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Value::Float(j.get<double>());
    case nlohmann::json::value_t::string: return Value::String(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& item : j) {
        STRATA_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      ValueDict dict;
      dict.items.reserve(j.size());
      for (const auto& [key, item] : j.items()) {
        STRATA_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1));
        dict.items.emplace_back(key, std::move(v));  // JSON object keys are already unique
      }
      return Value::Dict(std::move(dict));
    }
    default: return Status::InvalidArgument("JSON value of an unsupported type (binary or discarded)");
  }
}

}  // namespace

Result<Value> ValueFromJson(const nlohmann::ordered_json& json) { return Convert(json, 0); }

}  // namespace strata::jinja
