// The tokenizer of a Hugging Face folder: tokenizer.json (with tokenizer_config.json beside it).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/tokenizer.h"

namespace strata {

Result<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& dir);

}  // namespace strata
