// A loaded model: the mapped GGUF file, its architecture config, its tokenizer and its weights by name.
// Everything is validated at load; later layers trust it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/tensor.h"
#include "model/gguf.h"
#include "model/llama_arch.h"
#include "model/tokenizer.h"

namespace strata {

// Called while weights are paged in: bytes done so far and the total.
using LoadProgress = std::function<void(uint64_t done, uint64_t total)>;

class Model {
 public:
  // Opens and validates `path`; reads every weight page once (reporting progress) so the first token
  // doesn't pay for the disk.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, const LoadProgress& progress = nullptr);

  const GgufFile& gguf() const { return *gguf_; }
  const LlamaConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  // A weight by name; kNotFound naming it when the model has no such weight (never an empty tensor, whose
  // shape a caller could read as if it were real).
  Result<const Tensor*> Weight(const std::string& name) const;
  uint64_t weight_bytes() const { return weight_bytes_; }

  struct Key {  // only Load() constructs a Model
   private:
    friend class Model;
    Key() = default;
  };
  explicit Model(Key) {}

 private:
  std::unique_ptr<GgufFile> gguf_;
  LlamaConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::map<std::string, Tensor> weights_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace strata
