// `strata convert`: a Hugging Face Llama folder to a GGUF file llama.cpp loads. The weights are the ones
// Model::Load maps from the folder (q/k rows already permuted to GGUF's rope layout, norms f32), written under
// llama.cpp's names with the llama.* hyperparameters, the tokenizer.ggml.* vocabulary (model/hf_vocab.h) and the
// chat template; 2-D tensors in the requested type through QuantizeRow, norms f32.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "core/status.h"

namespace strata {

struct ConvertOptions {
  // The type of every 2-D tensor; none keeps each one's own. A K-quant needs rows that are a multiple of 256
  // elements and Q8_0/Q4_0 of 32: a tensor whose rows aren't falls back to Q8_0, then F16 (as llama.cpp's
  // quantize falls back), and the fallback is reported through `note`.
  std::optional<DType> dtype;
  // Progress: the tensor being written ("" while the folder is read), bytes written (read) so far and in all.
  std::function<void(const std::string& tensor, uint64_t done, uint64_t total)> progress;
  std::function<void(const std::string& message)> note;
  int threads = 0;  // quantizing threads (0: every core)
};

// Writes `out_path` (through a temporary file renamed at the end, so a failed conversion leaves nothing).
Status ConvertHfFolderToGguf(const std::string& dir, const std::string& out_path, const ConvertOptions& options);

// "q4_k" -> DType::kQ4_K for every type Strata can quantize to; kInvalidArgument listing them otherwise.
Result<DType> ParseConvertDType(const std::string& name);

}  // namespace strata
