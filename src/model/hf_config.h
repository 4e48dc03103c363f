// A Hugging Face model folder's config.json for the Llama family (LlamaForCausalLM, MistralForCausalLM and
// the like), read into the same ModelConfig a GGUF file gives. Untrusted: every number is range-checked, and
// what Strata cannot compute exactly (biases, rope scaling other than none, a head size other than
// hidden/heads, another activation) is kUnsupported naming the key, never approximated.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "model/arch/architecture.h"

namespace strata {

struct HfConfig {
  ModelConfig llama;         // n_vocab from vocab_size; tied_output from tie_word_embeddings
  std::string architecture;  // "LlamaForCausalLM", ...
  int64_t bos_id = -1;       // -1 when absent
  int64_t eos_id = -1;       // the first one when config.json lists several
};

// Parses the text of `path` (config.json).
Result<HfConfig> ParseHfConfig(const std::string& path, const std::string& text);
Result<HfConfig> ReadHfConfig(const std::string& path);


// The whole text of a small file; kIoError naming it when unreadable, kOutOfRange above `max_bytes`.
Result<std::string> ReadTextFile(const std::string& path, uint64_t max_bytes = 64ull << 20);

}  // namespace strata
