#include "server/request_fields.h"

#include <cmath>
#include <limits>

namespace strata {

using json = nlohmann::ordered_json;

ApiError Bad(const std::string& param, const std::string& message) { return {400, message, "invalid_request_error", param}; }

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
