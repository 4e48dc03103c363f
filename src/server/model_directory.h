// The models one server answers for. A request's "model" (and, for a Composition of Experts, its text) picks
// the services that render, tokenize and generate it; the directory also says what /v1/models lists, what
// /health reports and what /metrics renders. One model (single_model_directory.h) or many experts behind a
// router (coe/coe_directory.h) plug in here, so the HTTP layer is the same for both.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/api_error.h"

namespace strata {

class CompletionService;
class EmbeddingService;
class TokenizeService;

// What routing sees of a request before its prompt is rendered or tokenized.
struct RouteQuery {
  std::string model;  // the request's "model" ("" when absent or not a string)
  std::string text;   // the text to route on: the prompt, or the last user message of a chat
  bool generates = true;  // false for /tokenize and /detokenize: nothing to prepare (no expert to load)
};

// The query of a request body. A body that is malformed gives an empty query; the service that then parses it
// says what is wrong.
RouteQuery QueryOf(const std::string& body);

struct ServedRoute {
  CompletionService* completion = nullptr;
  const TokenizeService* tokenize = nullptr;
  const EmbeddingService* embedding = nullptr;  // null: this model serves no embeddings
  nlohmann::json extension;  // fields added to every response object of the request (an object), or null
};

class ModelDirectory {
 public:
  virtual ~ModelDirectory() = default;
  // The services for a request; an unknown model is a 404. Thread-safe: called from every HTTP thread.
  virtual std::variant<ServedRoute, ApiError> Resolve(const RouteQuery& query) = 0;
  virtual nlohmann::json Models() const = 0;  // the "data" array of /v1/models
  virtual Status health() const = 0;           // /health: 200 when ok, 503 with the message when not
  virtual std::string RenderMetrics() const = 0;  // /metrics, Prometheus text format
};

}  // namespace strata
