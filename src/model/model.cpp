#include "model/model.h"

namespace strata {
namespace {

// Touches one byte per page so the file is read now, in order, with progress, instead of at random during
// the first forward pass.
uint64_t TouchPages(const Tensor& t) {
  const auto* p = static_cast<const volatile uint8_t*>(t.data());
  const int64_t n = t.nbytes();
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; i += 4096) sum += p[i];
  return sum;
}

}  // namespace

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const LoadProgress& progress) {
  auto m = std::make_unique<Model>(Key{});
  STRATA_ASSIGN_OR_RETURN(m->gguf_, GgufFile::Open(path));
  STRATA_ASSIGN_OR_RETURN(m->config_, LlamaConfig::FromGguf(*m->gguf_));
  STRATA_RETURN_IF_ERROR(ValidateLlamaWeights(*m->gguf_, m->config_));
  STRATA_ASSIGN_OR_RETURN(m->tokenizer_, CreateTokenizer(*m->gguf_));
  if (m->tokenizer_->n_vocab() != m->config_.n_vocab)
    return Status::Corrupt(path + ": tokenizer has " + std::to_string(m->tokenizer_->n_vocab()) +
                           " tokens but token_embd.weight has " + std::to_string(m->config_.n_vocab) + " rows");

  const auto specs = LlamaWeights(m->config_);
  for (const WeightSpec& spec : specs) {
    STRATA_ASSIGN_OR_RETURN(Tensor t, m->gguf_->TensorView(*m->gguf_->FindTensor(spec.name)));
    m->weight_bytes_ += static_cast<uint64_t>(t.nbytes());
    m->weights_.emplace(spec.name, std::move(t));
  }
  uint64_t done = 0, checksum = 0;
  for (const WeightSpec& spec : specs) {
    const Tensor& t = m->weights_.at(spec.name);
    checksum += TouchPages(t);
    done += static_cast<uint64_t>(t.nbytes());
    if (progress) progress(done, m->weight_bytes_);
  }
  (void)checksum;
  return m;
}

Result<const Tensor*> Model::Weight(const std::string& name) const {
  auto it = weights_.find(name);
  if (it == weights_.end()) return Status::NotFound("the model has no weight '" + name + "'");
  return &it->second;
}

}  // namespace strata
