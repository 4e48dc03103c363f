// Placeholder until the tokenizer.json loader lands (another branch of the same issue provides this file).
#include "model/hf_tokenizer.h"

namespace strata {

Result<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& dir) {
  return Status::Unsupported("tokenizer.json loading is not built yet");
}

}  // namespace strata
