// tokenizer_config.json of a Hugging Face model folder: the fields Strata uses (the chat template, the special
// token texts, add_bos_token / add_eos_token). The file is untrusted input: a malformed one, or a known field of
// the wrong type, is a clear error naming the file and the field; unknown fields are ignored, as transformers does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/chat_template.h"

namespace strata {

struct HfTokenizerConfig {
  // The chat template transformers would use: the string, or the entry named "default" of a list of
  // {"name", "template"}; absent when the file has none (or a list without a "default").
  std::optional<std::string> chat_template;
  // Every template of a list form, by name, in file order (empty for the string form).
  std::vector<std::pair<std::string, std::string>> named_templates;
  // Special token texts: each a string or an AddedToken object {"content": ...}; absent when missing or null.
  ChatSpecialTokens special_tokens;
  std::optional<bool> add_bos_token, add_eos_token;
};

inline constexpr size_t kMaxTokenizerConfigBytes = 64u << 20;

// Parses the text of a tokenizer_config.json; `name` stands for the file in messages.
Result<HfTokenizerConfig> ParseHfTokenizerConfig(std::string_view json_text, const std::string& name);

// Reads DIR/tokenizer_config.json, then what transformers lets override it when it loads the folder: the
// special tokens given in DIR/special_tokens_map.json (older folders keep them there), and the template in
// DIR/chat_template.jinja (newer transformers versions save it there).
Result<HfTokenizerConfig> LoadHfTokenizerConfig(const std::string& dir);

// The folder's chat template and special tokens; kNotFound naming the folder when it has no chat template.
Result<ChatTemplateSource> ChatTemplateSourceFromHfConfig(const HfTokenizerConfig& config, const std::string& dir);

}  // namespace strata
