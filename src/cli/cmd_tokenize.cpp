// `strata tokenize`: print the token ids of a text as one JSON array (optionally with their pieces).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/log.h"
#include "model/gguf.h"
#include "model/tokenizer.h"

namespace strata::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool pieces = false;
  bool no_bos = false;
};

int Tokenize(const TokenizeOptions& o) {
  // Only the vocabulary is needed, so vocab-only GGUF files work too.
  auto gguf = GgufFile::Open(o.model);
  if (!gguf.ok()) {
    spdlog::error("{}", gguf.status().message());
    return 1;
  }
  auto tok = CreateTokenizer(**gguf);
  if (!tok.ok()) {
    spdlog::error("{}", tok.status().message());
    return 1;
  }
  const auto ids = (*tok)->Encode(o.text, (*tok)->add_bos() && !o.no_bos);
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
  cmd->add_option("-m,--model", opts->model, "GGUF file with a tokenizer (a vocab-only file is enough)")->required();
  cmd->add_option("text", opts->text, "text to tokenize")->required();
  cmd->add_flag("--pieces", opts->pieces, "print {\"id\", \"piece\"} objects instead of bare ids");
  cmd->add_flag("--no-bos", opts->no_bos, "do not prepend the BOS token even if the model asks for it");
  cmd->callback([opts, &exit_code] { exit_code = Tokenize(*opts); });
}

}  // namespace strata::cli
