// A Hugging Face config.json's vocab_size may exceed the tokenizer's token count (Qwen 2.5/3: 151,936 embedding
// rows for 151,665 tokens): the extra rows are padding no text encodes to. convert_hf_to_gguf.py names them
// "[PAD<id>]"; this wrapper does the same so the tokenizer's size equals the embedding's, as the engine expects.
#pragma once

#include <memory>

#include "model/tokenizer.h"

namespace strata {

// `inner` grown to `n_vocab` ids (n_vocab >= inner's): the pads decode to nothing and are never encoded.
std::unique_ptr<Tokenizer> PadTokenizer(std::unique_ptr<Tokenizer> inner, int32_t n_vocab);

}  // namespace strata
