// A loaded model: its source (a GGUF file, or a Hugging Face folder of config.json, tokenizer files and
// safetensors), its architecture config, its tokenizer and its weights by internal (GGUF) name. Everything is
// validated at load; later layers trust it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/tensor.h"
#include "model/chat_template.h"
#include "model/gguf.h"
#include "model/arch/architecture.h"
#include "model/tokenizer.h"

namespace strata {

// Called while weights are paged in: bytes done so far and the total.
using LoadProgress = std::function<void(uint64_t done, uint64_t total)>;

struct ModelLoadOptions {
  // Without a tokenizer the model computes from token ids only: tokenizer() is a placeholder that encodes
  // nothing (for `strata convert`, which reads tokenizer.json itself, and tests of the weights alone).
  bool load_tokenizer = true;
  // Read every weight page at load (with progress) into huge pages. Off for a rank of a multi-process job: the
  // file is mapped lazily and the rank reads only the slices its plan uses, so its resident memory is its
  // share of the model.
  bool touch_weights = true;
};

class Model {
 public:
  // Opens and validates `path`, a GGUF file or a Hugging Face folder; reads every weight page once
  // (reporting progress) so the first token doesn't pay for the disk.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, const LoadProgress& progress = nullptr,
                                             const ModelLoadOptions& options = {});

  const std::string& path() const { return path_; }
  // The GGUF file the model came from; null for a Hugging Face folder.
  const GgufFile* gguf_file() const { return gguf_.get(); }
  // Loaded with touch_weights off: gives back the file pages read so far (once the plans' executors have
  // copied what they use, the rest is read again only if touched).
  void ReleaseWeightPages() const;
  // The chat template with the special tokens it renders with: GGUF tokenizer.chat_template and the vocabulary's
  // token texts, or a folder's tokenizer_config.json (as transformers loads it); kNotFound when there is none.
  Result<strata::ChatTemplateSource> ChatTemplate() const;
  const ModelConfig& config() const { return config_; }
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
  Status LoadGguf(const ModelLoadOptions& options);
  Status LoadFolder(const ModelLoadOptions& options);
  Status CheckVocab() const;
  void TouchWeights(const LoadProgress& progress);

  std::string path_;
  std::unique_ptr<GgufFile> gguf_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::map<std::string, Tensor> weights_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace strata
