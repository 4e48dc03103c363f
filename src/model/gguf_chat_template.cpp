#include "model/gguf_chat_template.h"

#include <optional>
#include <string>

namespace strata {

namespace {

// The text of the token whose id is under `key`; none when the key is absent.
Status TokenText(const GgufFile& gguf, const GgufArray* tokens, const char* key, std::optional<std::string>& out) {
  const GgufValue* id_value = gguf.Find(key);
  if (id_value == nullptr) return Status::Ok();
  auto id = id_value->AsUint();
  if (!id.ok()) return Status::Corrupt(gguf.path() + ": metadata key '" + key + "': " + id.status().message());
  if (tokens == nullptr || *id >= tokens->items.size())
    return Status::Corrupt(gguf.path() + ": metadata key '" + key + "' = " + std::to_string(*id) +
                           " is not a token id (tokenizer.ggml.tokens has " +
                           std::to_string(tokens ? tokens->items.size() : 0) + " tokens)");
  auto text = tokens->items[*id].AsString();
  if (!text.ok()) return Status::Corrupt(gguf.path() + ": tokenizer.ggml.tokens: " + text.status().message());
  out = std::move(*text);
  return Status::Ok();
}

}  // namespace

Result<ChatTemplateSource> ChatTemplateSourceFromGguf(const GgufFile& gguf) {
  const GgufValue* source = gguf.Find("tokenizer.chat_template");
  if (source == nullptr) return Status::NotFound(gguf.path() + ": the GGUF has no tokenizer.chat_template");
  ChatTemplateSource out;
  STRATA_ASSIGN_OR_RETURN(out.source, gguf.GetString("tokenizer.chat_template"));
  const GgufValue* tokens_value = gguf.Find("tokenizer.ggml.tokens");
  const GgufArray* tokens = tokens_value ? tokens_value->AsArray() : nullptr;
  ChatSpecialTokens& t = out.special_tokens;
  STRATA_RETURN_IF_ERROR(TokenText(gguf, tokens, "tokenizer.ggml.bos_token_id", t.bos));
  STRATA_RETURN_IF_ERROR(TokenText(gguf, tokens, "tokenizer.ggml.eos_token_id", t.eos));
  STRATA_RETURN_IF_ERROR(TokenText(gguf, tokens, "tokenizer.ggml.unknown_token_id", t.unk));
  STRATA_RETURN_IF_ERROR(TokenText(gguf, tokens, "tokenizer.ggml.padding_token_id", t.pad));
  return out;
}

}  // namespace strata
