// Fuzzes the OpenAI request parser with arbitrary bodies; the first byte picks /v1/completions or
// /v1/chat/completions. Anything malformed must come back as an ApiError, never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/openai_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool chat = (data[0] & 1) != 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  strata::ParsedRequest req;
  // A Llama-2-sized vocabulary: token ids are range-checked against it.
  const auto err = strata::ParseCompletionRequest(body, chat, /*n_vocab=*/32000, req);
  if (err) (void)err->ToJson().dump();
  return 0;
}
