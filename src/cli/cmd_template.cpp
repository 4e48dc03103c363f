// `strata template`: print a model's chat template rendered for a conversation, exactly as the model would see
// it (no newline added), from a GGUF file or a Hugging Face folder.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/log.h"
#include "model/model_chat_template.h"

namespace strata::cli {
namespace {

using nlohmann::ordered_json;

struct TemplateOptions {
  std::string model;
  std::string messages_path;
  bool add_generation_prompt = false;
  bool continue_final_message = false;
  std::vector<std::string> vars;
};

// The messages file: a JSON array of messages, or an object with one under "messages" (a chat request body).
Result<ordered_json> ReadMessages(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IoError(path + ": cannot open");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (j.is_object() && j.contains("messages")) j = std::move(j["messages"]);
  if (!j.is_array()) return Status::InvalidArgument(path + ": expected a JSON array of messages (or {\"messages\": [...]})");
  return j;
}

// --var name=JSON, each into the variables object.
Result<ordered_json> ParseVars(const std::vector<std::string>& vars) {
  ordered_json out = ordered_json::object();
  for (const std::string& v : vars) {
    const size_t eq = v.find('=');
    ordered_json value = eq == std::string::npos ? ordered_json(nullptr)
                                                 : ordered_json::parse(v.substr(eq + 1), nullptr, false);
    if (eq == std::string::npos || eq == 0 || value.is_discarded())
      return Status::InvalidArgument("--var '" + v + "': expected NAME=JSON, e.g. --var enable_thinking=false or " +
                                     "--var 'date_string=\"26 Jul 2024\"'");
    out[v.substr(0, eq)] = std::move(value);
  }
  return out;
}

Result<std::string> Render(const TemplateOptions& o) {
  STRATA_ASSIGN_OR_RETURN(ChatTemplateSource source, LoadChatTemplateSource(o.model));
  STRATA_ASSIGN_OR_RETURN(ChatTemplate tmpl, ChatTemplate::FromSource(source));
  STRATA_ASSIGN_OR_RETURN(ordered_json messages, ReadMessages(o.messages_path));
  STRATA_ASSIGN_OR_RETURN(ordered_json vars, ParseVars(o.vars));
  return tmpl.Render({&messages, o.add_generation_prompt, &vars, o.continue_final_message});
}

}  // namespace

void RegisterTemplate(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TemplateOptions>();
  CLI::App* cmd = app.add_subcommand("template", "Print a conversation rendered by the model's chat template");
  cmd->add_option("-m,--model", o->model, "GGUF file (a vocab-only file is enough) or Hugging Face model folder")
      ->required()->check(CLI::ExistingPath);
  cmd->add_option("--messages", o->messages_path, "JSON file of messages ([{\"role\", \"content\"}, ...]); - for stdin")
      ->required();
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt, "end with the assistant turn's header");
  cmd->add_flag("--continue-final-message", o->continue_final_message,
                "end right after the last message, so the model continues it");
  cmd->add_option("--var", o->vars, "extra template variable NAME=JSON (e.g. enable_thinking=false); repeatable");
  cmd->callback([o, &exit_code] {
    auto text = Render(*o);
    if (!text.ok()) {
      spdlog::error("{}", text.status().message());
      exit_code = 1;
      return;
    }
    std::fwrite(text->data(), 1, text->size(), stdout);
    exit_code = std::fflush(stdout) == 0 ? 0 : 1;
  });
}

}  // namespace strata::cli
