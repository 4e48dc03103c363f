// One model behind the server: its AsyncEngine, chat template and services. Requests naming another model
// get the services' own 404.
#pragma once

#include <memory>
#include <string>

#include "engine/async_engine.h"
#include "model/chat_template.h"
#include "server/chat_prompt.h"
#include "server/completion_service.h"
#include "server/embedding_service.h"
#include "server/model_directory.h"
#include "server/tokenize_service.h"

namespace strata {

class SingleModelDirectory final : public ModelDirectory {
 public:
  // `engine` must outlive the directory; `chat_template` is null when the model has none (`template_error`
  // then says why chat requests fail).
  SingleModelDirectory(AsyncEngine& engine, std::string model_name, std::unique_ptr<ChatTemplate> chat_template,
                       std::string template_error, Pooling pooling = Pooling::kMean);

  std::variant<ServedRoute, ApiError> Resolve(const RouteQuery&) override {
    return ServedRoute{.completion = &completion_, .tokenize = &tokenize_, .embedding = &embedding_};
  }
  nlohmann::json Models() const override;
  Status health() const override { return engine_.health(); }
  std::string RenderMetrics() const override { return engine_.metrics().RenderPrometheus(model_name_); }

 private:
  AsyncEngine& engine_;
  std::string model_name_;
  std::unique_ptr<ChatTemplate> chat_template_;
  ChatPrompt prompt_;
  CompletionService completion_;
  TokenizeService tokenize_;
  EmbeddingService embedding_;
};

}  // namespace strata
