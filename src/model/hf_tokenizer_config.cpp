#include "model/hf_tokenizer_config.h"

#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"

namespace strata {

namespace {

using nlohmann::json;

Status BadField(const std::string& name, std::string_view field, std::string_view what) {
  return Status::InvalidArgument(name + ": '" + std::string(field) + "' " + std::string(what));
}

// A special token: a string, an AddedToken object {"content": "...", ...}, or null (absent).
Status ReadSpecialToken(const json& config, const char* key, const std::string& name, std::optional<std::string>& out) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return Status::Ok();
  if (it->is_string()) {
    out = it->get<std::string>();
    return Status::Ok();
  }
  if (it->is_object()) {
    auto content = it->find("content");
    if (content == it->end() || !content->is_string())
      return BadField(name, key, "is an object without a string \"content\" (expected a string or an AddedToken)");
    out = content->get<std::string>();
    return Status::Ok();
  }
  return BadField(name, key, std::string("is a ") + it->type_name() + ", expected a string or an AddedToken object");
}

Status ReadBool(const json& config, const char* key, const std::string& name, std::optional<bool>& out) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return BadField(name, key, std::string("is a ") + it->type_name() + ", expected a boolean");
  out = it->get<bool>();
  return Status::Ok();
}

// "chat_template": a string, or a list of {"name": ..., "template": ...} of which "default" is the one used.
Status ReadChatTemplate(const json& config, const std::string& name, HfTokenizerConfig& out) {
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return Status::Ok();
  if (it->is_string()) {
    out.chat_template = it->get<std::string>();
    return Status::Ok();
  }
  if (!it->is_array())
    return BadField(name, "chat_template", std::string("is a ") + it->type_name() +
                                               ", expected a string or a list of {\"name\", \"template\"}");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    auto n = entry.is_object() ? entry.find("name") : entry.end();
    auto t = entry.is_object() ? entry.find("template") : entry.end();
    if (!entry.is_object() || n == entry.end() || t == entry.end() || !n->is_string() || !t->is_string())
      return BadField(name, "chat_template", "entry " + std::to_string(i) + " is not {\"name\": string, \"template\": string}");
    out.named_templates.emplace_back(n->get<std::string>(), t->get<std::string>());
    if (out.named_templates.back().first == "default") out.chat_template = out.named_templates.back().second;
  }
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::IoError(path + ": " + ec.message());
  if (size > kMaxTokenizerConfigBytes)
    return Status::InvalidArgument(path + ": " + std::to_string(size) + " bytes, more than the limit of " +
                                   std::to_string(kMaxTokenizerConfigBytes));
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  return std::string(reinterpret_cast<const char*>(file->data()), file->size());
}

Result<nlohmann::json> ParseObject(std::string_view json_text, const std::string& name) {
  // Depth-limited by nlohmann's own recursion only: the file is a local model file, not a network request,
  // and the size limit bounds the nesting a file can hold.
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(name + ": not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument(name + ": expected a JSON object at the top level");
  return j;
}

Status ReadSpecialTokens(const json& j, const std::string& name, ChatSpecialTokens& out) {
  STRATA_RETURN_IF_ERROR(ReadSpecialToken(j, "bos_token", name, out.bos));
  STRATA_RETURN_IF_ERROR(ReadSpecialToken(j, "eos_token", name, out.eos));
  STRATA_RETURN_IF_ERROR(ReadSpecialToken(j, "unk_token", name, out.unk));
  return ReadSpecialToken(j, "pad_token", name, out.pad);
}

}  // namespace

Result<HfTokenizerConfig> ParseHfTokenizerConfig(std::string_view json_text, const std::string& name) {
  STRATA_ASSIGN_OR_RETURN(json config, ParseObject(json_text, name));
  HfTokenizerConfig out;
  STRATA_RETURN_IF_ERROR(ReadChatTemplate(config, name, out));
  STRATA_RETURN_IF_ERROR(ReadSpecialTokens(config, name, out.special_tokens));
  STRATA_RETURN_IF_ERROR(ReadBool(config, "add_bos_token", name, out.add_bos_token));
  STRATA_RETURN_IF_ERROR(ReadBool(config, "add_eos_token", name, out.add_eos_token));
  return out;
}

Result<HfTokenizerConfig> LoadHfTokenizerConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  STRATA_ASSIGN_OR_RETURN(HfTokenizerConfig config, ParseHfTokenizerConfig(text, path));
  std::error_code ec;
  const std::string map_path = (std::filesystem::path(dir) / "special_tokens_map.json").string();
  if (std::filesystem::is_regular_file(map_path, ec)) {
    STRATA_ASSIGN_OR_RETURN(std::string map_text, ReadSmallFile(map_path));
    STRATA_ASSIGN_OR_RETURN(json map, ParseObject(map_text, map_path));
    STRATA_RETURN_IF_ERROR(ReadSpecialTokens(map, map_path, config.special_tokens));
  }
  const std::string jinja_path = (std::filesystem::path(dir) / "chat_template.jinja").string();
  if (std::filesystem::is_regular_file(jinja_path, ec)) {
    STRATA_ASSIGN_OR_RETURN(std::string source, ReadSmallFile(jinja_path));
    config.chat_template = std::move(source);
  }
  return config;
}

Result<ChatTemplateSource> ChatTemplateSourceFromHfConfig(const HfTokenizerConfig& config, const std::string& dir) {
  if (!config.chat_template) {
    std::string why = dir + ": tokenizer_config.json has no chat_template";
    if (!config.named_templates.empty()) {
      why = dir + ": tokenizer_config.json's chat_template list has no template named 'default' (it has:";
      for (const auto& [n, t] : config.named_templates) why += " '" + n + "'";
      why += ")";
    }
    return Status::NotFound(why);
  }
  return ChatTemplateSource{*config.chat_template, config.special_tokens};
}

}  // namespace strata
