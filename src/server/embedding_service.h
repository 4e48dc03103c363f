// OpenAI's /v1/embeddings over one model's engine: "input" as a string, an array of strings, an array of token
// ids or an array of such arrays; one unit vector per input (engine/embedder.h: the final hidden state, mean-
// or last-token pooled, as the server was started), as floats or as base64 of their little-endian float32
// bytes ("encoding_format"). The inputs of a request run together between the engine's steps. Knows nothing
// of HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/async_engine.h"
#include "engine/embedder.h"
#include "server/api_error.h"

namespace strata {

class EmbeddingService {
 public:
  static constexpr size_t kMaxInputs = 2048;      // OpenAI's limits a request: inputs,
  static constexpr int64_t kMaxTokens = 300'000;  // and tokens of them all

  // `engine` must outlive the service. Requests name `model_name` as "model", or none.
  EmbeddingService(AsyncEngine& engine, std::string model_name, Pooling pooling)
      : engine_(engine), model_name_(std::move(model_name)), pooling_(pooling) {}

  // {"input", "model", "encoding_format"="float", "dimensions", "user"} ->
  // {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}.
  std::variant<nlohmann::json, ApiError> Embed(const std::string& body) const;

 private:
  std::variant<std::vector<std::vector<int32_t>>, ApiError> Inputs(const nlohmann::ordered_json& input) const;

  AsyncEngine& engine_;
  std::string model_name_;
  Pooling pooling_;
};

}  // namespace strata
