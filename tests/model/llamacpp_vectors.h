// llama.cpp's vocabulary tests (tokenizer-llamacpp/NAME.gguf.inp/.out): the strings of `.inp`, separated by
// the line __ggml_vocab_test__, and for each the ids of `.out` (one line per string, no BOS).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace strata::testing {

// The (text, ids) cases of `base` + ".inp"/".out"; empty when either file is missing or they disagree in count.
inline std::vector<std::pair<std::string, std::vector<int32_t>>> ReadLlamaCppVectors(const std::string& base) {
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string inp = read(base + ".inp"), outp = read(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) break;
    texts.push_back(inp.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  std::vector<std::pair<std::string, std::vector<int32_t>>> cases;
  std::istringstream lines(outp);
  std::string line;
  for (const std::string& text : texts) {
    if (!std::getline(lines, line)) return {};
    std::vector<int32_t> ids;
    std::istringstream nums(line);
    for (int32_t id; nums >> id;) ids.push_back(id);
    cases.emplace_back(text, std::move(ids));
  }
  return cases;
}

}  // namespace strata::testing
