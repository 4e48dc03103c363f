// `strata tokenize`: print the token ids of a text as one JSON array (optionally with their pieces). The
// model is a GGUF file (a vocab-only one is enough) or a Hugging Face folder with tokenizer.json.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/log.h"
#include "model/gguf.h"
#include "model/hf_tokenizer.h"
#include "model/tokenizer.h"

namespace strata::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool pieces = false;
  bool no_special = false;
};

Result<std::unique_ptr<Tokenizer>> OpenTokenizer(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return LoadHfTokenizer(path);
  // Only the vocabulary is needed, so vocab-only GGUF files work too.
  STRATA_ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(path));
  return CreateTokenizer(*gguf);
}

int Tokenize(const TokenizeOptions& o) {
  auto tok = OpenTokenizer(o.model);
  if (!tok.ok()) {
    spdlog::error("{}", tok.status().message());
    return 1;
  }
  // Special-token text in the input is parsed as those tokens (Hugging Face's default).
  const auto ids = o.no_special ? (*tok)->Encode(o.text, false) : EncodeWithSpecialTokens(**tok, o.text);
  nlohmann::json out = nlohmann::json::array();
  for (int32_t id : ids) {
    if (o.pieces)
      out.push_back({{"id", id}, {"piece", (*tok)->Piece(id)}});
    else
      out.push_back(id);
  }
  // Pieces may hold bytes that are not valid UTF-8 on their own; replace rather than fail.
  std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

void RegisterTokenize(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  cmd->add_option("-m,--model", opts->model,
                  "GGUF file with a tokenizer (a vocab-only file is enough) or a Hugging Face folder with "
                  "tokenizer.json")
      ->required();
  cmd->add_option("text", opts->text, "text to tokenize")->required();
  cmd->add_flag("--pieces", opts->pieces, "print {\"id\", \"piece\"} objects instead of bare ids");
  cmd->add_flag("--no-special,--no-bos", opts->no_special,
                "add no special tokens (no BOS/EOS) even if the model asks for them");
  cmd->callback([opts, &exit_code] { exit_code = Tokenize(*opts); });
}

}  // namespace strata::cli
