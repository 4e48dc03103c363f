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

std::vector<int32_t> EncodeRenderedChat(const Tokenizer& tokenizer, const ChatSpecialTokens* special,
                                        std::string_view text, bool add_special) {
  bool add_bos = add_special && tokenizer.add_bos();
  if (special && special->bos && !special->bos->empty() && text.starts_with(*special->bos))
    text.remove_prefix(special->bos->size()), add_bos = true;
  return tokenizer.Encode(text, add_bos);
}

}  // namespace strata
