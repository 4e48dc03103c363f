#include "server/api_error.h"

namespace strata {

nlohmann::json ApiError::ToJson() const {
  nlohmann::json p = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  return {{"error", {{"message", message}, {"type", type}, {"param", p}, {"code", status}}}};
}

ApiError RoutingError(int status, const std::string& method, const std::string& path, const std::string& server) {
  std::string message = "HTTP " + std::to_string(status);
  if (status == 404) message = "no route for " + method + " " + path;
  if (status == 413) message = "the request body is larger than the " + server + "'s limit";
  if (status == 400) message = "malformed HTTP request";
  return {status, message, status == 404 ? "not_found_error" : "invalid_request_error", ""};
}

}  // namespace strata
