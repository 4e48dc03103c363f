// An error as an OpenAI client sees it: the HTTP status and the {"error": {...}} body. One shape for every
// error the server sends, from request validation to the connection gate's refusals.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace strata {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  nlohmann::json ToJson() const;
};

// An engine or parser Status as the client sees it: 503 when a peer or resource is unavailable, 500 for the
// server's own faults (kInternal, kIoError), 400 naming `param` for the rest (the request asked for it).
ApiError ApiErrorFromStatus(const Status& st, const std::string& param = "");

// The error for a status that cpp-httplib set without a body (no route, body too large, unparsable request),
// for its error handler. `server` names who refuses in the 413 message ("server", "router").
ApiError RoutingError(int status, const std::string& method, const std::string& path, const std::string& server);

}  // namespace strata
