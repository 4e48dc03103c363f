#include "model/padded_tokenizer.h"

#include <string>
#include <vector>

namespace strata {
namespace {

class PaddedTokenizer final : public Tokenizer {
 public:
  PaddedTokenizer(std::unique_ptr<Tokenizer> inner, int32_t n_vocab) : inner_(std::move(inner)) {
    for (int32_t id = inner_->n_vocab(); id < n_vocab; ++id) pads_.push_back("[PAD" + std::to_string(id) + "]");
  }
  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const override {
    return inner_->Encode(text, add_bos);
  }
  std::string Decode(const std::vector<int32_t>& ids) const override {
    std::vector<int32_t> real;
    for (int32_t id : ids)
      if (!IsPad(id)) real.push_back(id);
    return inner_->Decode(real);
  }
  const std::string& Piece(int32_t id) const override {
    return IsPad(id) ? pads_[static_cast<size_t>(id - inner_->n_vocab())] : inner_->Piece(id);
  }
  std::string TokenBytes(int32_t id) const override { return IsPad(id) ? "" : inner_->TokenBytes(id); }
  int32_t n_vocab() const override { return inner_->n_vocab() + static_cast<int32_t>(pads_.size()); }
  int32_t bos_id() const override { return inner_->bos_id(); }
  int32_t eos_id() const override { return inner_->eos_id(); }
  bool add_bos() const override { return inner_->add_bos(); }

 private:
  bool IsPad(int32_t id) const { return id >= inner_->n_vocab(); }
  std::unique_ptr<Tokenizer> inner_;
  std::vector<std::string> pads_;
};

}  // namespace

std::unique_ptr<Tokenizer> PadTokenizer(std::unique_ptr<Tokenizer> inner, int32_t n_vocab) {
  if (inner->n_vocab() >= n_vocab) return inner;
  return std::make_unique<PaddedTokenizer>(std::move(inner), n_vocab);
}

}  // namespace strata
