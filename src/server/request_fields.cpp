#include "server/request_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "server/request_json.h"

namespace strata {

using json = nlohmann::ordered_json;

ApiError Bad(const std::string& param, const std::string& message) { return {400, message, "invalid_request_error", param}; }

std::optional<ApiError> ParseModelBody(const std::string& body, const std::string& model_name,
                                       const std::vector<std::string>& aliases, json& out) {
  if (auto err = ParseRequestJson(body, out)) return Bad("", *err);
  if (!out.is_object()) return Bad("", "the request body must be a JSON object");
  if (const json* m = Fields(out).Find("model")) {
    if (!m->is_string()) return Bad("model", "'model' must be a string");
    const std::string name = m->get<std::string>();
    if (name != model_name && std::ranges::find(aliases, name) == aliases.end())
      return ApiError{404, "The model `" + name + "` does not exist.", "not_found_error", "model"};
  }
  return std::nullopt;
}

bool IntInRange(const json& v, int64_t lo, int64_t hi) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    return hi >= 0 && u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo));
  }
  const auto i = v.get<int64_t>();
  return i >= lo && i <= hi;
}

std::string Quote(const std::string& key) { return "'" + key + "'"; }

std::optional<ApiError> CheckInt(const std::string& param, const json& v, int64_t lo, int64_t hi,
                                 const std::string& allowed) {
  if (!v.is_number_integer()) return Bad(param, Quote(param) + " must be an integer");
  if (!IntInRange(v, lo, hi)) return Bad(param, Quote(param) + " must be " + allowed + ", got " + v.dump());
  return std::nullopt;
}

std::string TokenRange(int32_t n_vocab) { return "a token id in [0, " + std::to_string(n_vocab) + ")"; }

const json* Fields::Find(const char* key) const {
  auto it = j_.find(key);
  return it == j_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<ApiError> Fields::Number(const char* key, float& out) const {
  if (const json* v = Find(key)) {
    if (!v->is_number()) return Bad(key, Quote(key) + " must be a number");
    const auto d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max())
      return Bad(key, Quote(key) + " must be a finite number, got " + v->dump());
    out = static_cast<float>(d);
  }
  return std::nullopt;
}

std::optional<ApiError> Fields::Int(const char* key, int64_t lo, int64_t hi, const std::string& allowed, int64_t& out,
                                    bool* given) const {
  if (const json* v = Find(key)) {
    if (auto err = CheckInt(key, *v, lo, hi, allowed)) return err;
    out = v->get<int64_t>();
    if (given) *given = true;
  }
  return std::nullopt;
}

std::optional<ApiError> Fields::Bool(const char* key, bool& out) const {
  if (const json* v = Find(key)) {
    if (!v->is_boolean()) return Bad(key, Quote(key) + " must be a boolean");
    out = v->get<bool>();
  }
  return std::nullopt;
}

}  // namespace strata
