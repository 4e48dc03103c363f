#include "server/api_error.h"

namespace strata {

nlohmann::json ApiError::ToJson() const {
  nlohmann::json p = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  return {{"error", {{"message", message}, {"type", type}, {"param", p}, {"code", status}}}};
}

ApiError ApiErrorFromStatus(const Status& st, const std::string& param) {
  switch (st.code()) {
    case Status::Code::kUnavailable:
      return {503, st.message(), "server_error", ""};
    case Status::Code::kInternal:
    case Status::Code::kIoError:
      return {500, st.message(), "server_error", ""};
    default:
      return {400, st.message(), "invalid_request_error", param};
  }
}

ApiError RoutingError(int status, const std::string& method, const std::string& path, const std::string& server) {
  std::string message = "HTTP " + std::to_string(status);
  if (status == 404) message = "no route for " + method + " " + path;
  if (status == 413) message = "the request body is larger than the " + server + "'s limit";
  if (status == 400) message = "malformed HTTP request";
  if (status == 500) message = std::string("internal error of the ").append(server).append(" (its log says what)");
  const char* type = status == 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error";
  return {status, message, type, ""};
}

}  // namespace strata
