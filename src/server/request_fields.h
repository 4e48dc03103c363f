// Validating the fields of a request body, shared by every endpoint: OpenAI-style 400 errors that name the
// field, integers range-checked in the width the JSON parser gave them before they are narrowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace strata {

// A 400 invalid_request_error about `param`.
ApiError Bad(const std::string& param, const std::string& message);
// 'key', for messages.
std::string Quote(const std::string& key);
// An integer JSON value in [lo, hi], compared in the width the parser gave it: a non-negative number is a
// uint64 (which may exceed INT64_MAX), a negative one an int64.
bool IntInRange(const nlohmann::ordered_json& v, int64_t lo, int64_t hi);
// An integer field: the error names it, the allowed range and the value as sent.
std::optional<ApiError> CheckInt(const std::string& param, const nlohmann::ordered_json& v, int64_t lo, int64_t hi,
                                 const std::string& allowed);
// "a token id in [0, n_vocab)".
std::string TokenRange(int32_t n_vocab);

// The body as a JSON object whose "model", when given, is `model_name` or one of `aliases` (else a 404).
std::optional<ApiError> ParseModelBody(const std::string& body, const std::string& model_name,
                                       const std::vector<std::string>& aliases, nlohmann::ordered_json& out);

// Typed access to optional fields: a present field of the wrong type or range is an error naming the field;
// an absent or null one leaves the output as it was.
class Fields {
 public:
  explicit Fields(const nlohmann::ordered_json& j) : j_(j) {}
  const nlohmann::ordered_json* Find(const char* key) const;
  // A finite number that fits a float; the engine checks each sampling parameter's own range.
  std::optional<ApiError> Number(const char* key, float& out) const;
  std::optional<ApiError> Int(const char* key, int64_t lo, int64_t hi, const std::string& allowed, int64_t& out,
                              bool* given = nullptr) const;
  std::optional<ApiError> Bool(const char* key, bool& out) const;

 private:
  const nlohmann::ordered_json& j_;
};

#define STRATA_API_CHECK(expr)              \
  if (auto _err = (expr); _err) return _err

}  // namespace strata
