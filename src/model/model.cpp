#include "model/model.h"

#include <filesystem>

#include "model/gguf_chat_template.h"
#include "model/hf_config.h"
#include "model/hf_tokenizer.h"
#include "model/hf_tokenizer_config.h"
#include "model/hf_weights.h"
#include "model/padded_tokenizer.h"
#include "model/safetensors.h"

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

// ModelLoadOptions::load_tokenizer = false: ids only. Encodes nothing, decodes to nothing.
class IdsOnlyTokenizer final : public Tokenizer {
 public:
  explicit IdsOnlyTokenizer(int64_t n_vocab) : n_vocab_(static_cast<int32_t>(n_vocab)) {}
  std::vector<int32_t> Encode(std::string_view, bool) const override { return {}; }
  std::string Decode(const std::vector<int32_t>&) const override { return ""; }
  const std::string& Piece(int32_t) const override { return empty_; }
  std::string TokenBytes(int32_t) const override { return ""; }
  int32_t n_vocab() const override { return n_vocab_; }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return -1; }
  bool add_bos() const override { return false; }

 private:
  int32_t n_vocab_;
  std::string empty_;
};

}  // namespace

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const LoadProgress& progress,
                                           const ModelLoadOptions& options) {
  auto m = std::make_unique<Model>(Key{});
  m->path_ = path;
  std::error_code ec;
  STRATA_RETURN_IF_ERROR(std::filesystem::is_directory(path, ec) ? m->LoadFolder(options) : m->LoadGguf(options));
  if (!options.load_tokenizer) m->tokenizer_ = std::make_unique<IdsOnlyTokenizer>(m->config_.n_vocab);
  STRATA_RETURN_IF_ERROR(m->CheckVocab());
  for (const auto& [name, t] : m->weights_) m->weight_bytes_ += static_cast<uint64_t>(t.nbytes());
  if (options.touch_weights) m->TouchWeights(progress);
  return m;
}

Status Model::LoadGguf(const ModelLoadOptions& options) {
  // Without the load-time read, map lazily: a rank then reads only the slices its plan uses.
  STRATA_ASSIGN_OR_RETURN(gguf_, GgufFile::Open(path_, options.touch_weights ? MappedFile::Mode::kReadAll
                                                                               : MappedFile::Mode::kLazy));
  STRATA_ASSIGN_OR_RETURN(config_, ReadModelConfig(*gguf_));
  STRATA_RETURN_IF_ERROR(ValidateWeights(*gguf_, config_));
  if (options.load_tokenizer) {
    STRATA_ASSIGN_OR_RETURN(tokenizer_, CreateTokenizer(*gguf_));
  }
  for (const WeightSpec& spec : ArchWeights(config_)) {
    STRATA_ASSIGN_OR_RETURN(Tensor t, gguf_->TensorView(*gguf_->FindTensor(spec.name)));
    weights_.emplace(spec.name, std::move(t));
  }
  return Status::Ok();
}

Status Model::LoadFolder(const ModelLoadOptions& options) {
  STRATA_ASSIGN_OR_RETURN(HfConfig hf, ReadHfConfig(path_ + "/config.json"));
  config_ = hf.llama;
  STRATA_ASSIGN_OR_RETURN(SafetensorsSet set, SafetensorsSet::OpenFolder(path_));
  STRATA_ASSIGN_OR_RETURN(weights_, LoadHfWeights(path_, set, config_));
  if (options.load_tokenizer) {
    auto tokenizer = LoadHfTokenizer(path_);
    if (!tokenizer.ok()) return tokenizer.status().WithContext(path_);
    // Rows past the tokenizer's tokens are padding (as convert_hf_to_gguf.py names them); more tokens than
    // rows is still an error (CheckVocab).
    tokenizer_ = PadTokenizer(std::move(tokenizer).value(), static_cast<int32_t>(config_.n_vocab));
  }
  return Status::Ok();
}

Status Model::CheckVocab() const {
  if (tokenizer_->n_vocab() != config_.n_vocab)
    return Status::Corrupt(path_ + ": tokenizer has " + std::to_string(tokenizer_->n_vocab()) +
                           " tokens but token_embd.weight has " + std::to_string(config_.n_vocab) + " rows");
  return Status::Ok();
}

void Model::TouchWeights(const LoadProgress& progress) {
  uint64_t done = 0, checksum = 0;
  for (const WeightSpec& spec : ArchWeights(config_)) {
    const Tensor& t = weights_.at(spec.name);
    checksum += TouchPages(t);
    done += static_cast<uint64_t>(t.nbytes());
    if (progress) progress(done, weight_bytes_);
  }
  (void)checksum;
}

void Model::ReleaseWeightPages() const {
  if (gguf_) gguf_->file().ReleasePages();
}

Result<ChatTemplateSource> Model::ChatTemplate() const {
  if (gguf_) return ChatTemplateSourceFromGguf(*gguf_);
  STRATA_ASSIGN_OR_RETURN(HfTokenizerConfig config, LoadHfTokenizerConfig(path_));
  return ChatTemplateSourceFromHfConfig(config, path_);
}

Result<const Tensor*> Model::Weight(const std::string& name) const {
  auto it = weights_.find(name);
  if (it == weights_.end()) return Status::NotFound("the model has no weight '" + name + "'");
  return &it->second;
}

}  // namespace strata
