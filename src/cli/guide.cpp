#include "cli/guide.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

namespace strata::cli {
namespace {

constexpr const char* kWhereModelsComeFrom =
    "A model is a GGUF file (llama.cpp's format: the .gguf files people download, e.g. a Q4_K_M quantization\n"
    "from Hugging Face) or a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).\n"
    "For a quick test with random weights:\n"
    "  strata gen-model --shape llama-tiny --dtype q8_0 -o /tmp/tiny.gguf --vocab VOCAB.gguf\n"
    "  (VOCAB.gguf: any GGUF whose tokenizer it borrows, such as a downloaded model; the output is noise)\n";

// Up to `max` .gguf files directly in `dir`, sorted.
std::vector<std::string> GgufFilesIn(const std::filesystem::path& dir, size_t max) {
  std::vector<std::string> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".gguf" && it->is_regular_file(ec)) found.push_back(it->path().string());
  std::sort(found.begin(), found.end());
  if (found.size() > max) found.resize(max);
  return found;
}

bool StartsWithGgufMagic(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

}  // namespace

void PrintGuide(std::FILE* out) {
  std::fprintf(out,
               "Strata: run large language models on the CPU.\n\n%s\n"
               "Then:\n"
               "  strata chat -m MODEL                         talk with it in the terminal\n"
               "  strata run -m MODEL -p \"Once upon a time\"   continue a prompt\n"
               "  strata serve -m MODEL --port 8000            an OpenAI-compatible server and a chat page at /\n"
               "  strata info -m MODEL                         what the model holds\n"
               "  strata bench -m MODEL                        prompt and decode speed\n"
               "Every command: strata COMMAND --help. All commands: strata --help.\n",
               kWhereModelsComeFrom);
}

std::string MissingModelHint() {
  std::string hint(1, '\n');
  hint.append(kWhereModelsComeFrom);
  return hint;
}

namespace {

std::string LoadFailureHint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (!fs::exists(p, ec)) {
    const std::string absolute = fs::absolute(p, ec).string();
    return "nothing is at '" + path + "': check the path" + (absolute != path ? " (" + absolute + ")" : "");
  }
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "config.json", ec)) return "";  // a Hugging Face folder: the loader says what is wrong
    const auto ggufs = GgufFilesIn(p, 5);
    if (!ggufs.empty()) {
      std::string hint = "'" + path + "' is a folder; pass one of its GGUF files with -m:";
      for (const auto& f : ggufs) hint += "\n  " + f;
      return hint;
    }
    return "'" + path + "' is a folder without a model: a Hugging Face model folder holds config.json, "
           "*.safetensors and tokenizer.json; or pass a .gguf file";
  }
  if (!StartsWithGgufMagic(p))
    return "'" + path + "' is not a GGUF file (it does not start with 'GGUF'): pass a .gguf file or a Hugging Face "
           "model folder";
  return "";
}

}  // namespace

void PrintLoadFailureHint(const std::string& path) {
  if (const std::string hint = LoadFailureHint(path); !hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
}

}  // namespace strata::cli
