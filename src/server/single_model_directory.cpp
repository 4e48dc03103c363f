#include "server/single_model_directory.h"

namespace strata {

SingleModelDirectory::SingleModelDirectory(AsyncEngine& engine, std::string model_name,
                                           std::unique_ptr<ChatTemplate> chat_template, std::string template_error,
                                           Pooling pooling)
    : engine_(engine), model_name_(std::move(model_name)), chat_template_(std::move(chat_template)),
      prompt_(chat_template_.get(), std::move(template_error), engine.tokenizer()),
      completion_(engine, prompt_, model_name_),
      tokenize_(prompt_, engine.tokenizer(), engine.max_model_len(), model_name_),
      embedding_(engine, model_name_, pooling) {}

nlohmann::json SingleModelDirectory::Models() const {
  return nlohmann::json::array({{{"id", model_name_}, {"object", "model"}, {"created", 0}, {"owned_by", "strata"},
                                 {"max_model_len", engine_.max_model_len()}}});
}

}  // namespace strata
