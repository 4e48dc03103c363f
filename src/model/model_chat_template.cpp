#include "model/model_chat_template.h"

#include <filesystem>
#include <system_error>

#include "model/gguf.h"
#include "model/gguf_chat_template.h"
#include "model/hf_tokenizer_config.h"

namespace strata {

Result<ChatTemplateSource> LoadChatTemplateSource(const std::string& file_or_dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(file_or_dir, ec)) {
    STRATA_ASSIGN_OR_RETURN(HfTokenizerConfig config, LoadHfTokenizerConfig(file_or_dir));
    return ChatTemplateSourceFromHfConfig(config, file_or_dir);
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(file_or_dir));
  return ChatTemplateSourceFromGguf(*gguf);
}

}  // namespace strata
