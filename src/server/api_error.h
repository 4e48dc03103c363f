// An error as an OpenAI client sees it: the HTTP status and the {"error": {...}} body. One shape for every
// error the server sends, from request validation to the connection gate's refusals.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace strata {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  nlohmann::json ToJson() const;
};

}  // namespace strata
