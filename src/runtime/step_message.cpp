#include "runtime/step_message.h"

#include <limits>
#include <string>

namespace strata {
namespace {

constexpr int64_t kSeqWords = 6;  // first_row, num_rows, start_pos, table length, want_logits, all_logits

// Reads words in order; every read is bounds-checked.
class WordReader {
 public:
  explicit WordReader(const std::vector<int64_t>& w) : w_(w) {}
  bool Next(int64_t& v) {
    if (pos_ >= w_.size()) return false;
    v = w_[pos_++];
    return true;
  }
  size_t left() const { return w_.size() - pos_; }
  bool done() const { return pos_ == w_.size(); }

 private:
  const std::vector<int64_t>& w_;
  size_t pos_ = 0;
};

bool FitsInt32(int64_t v) { return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max(); }

Status Malformed(const std::string& what) { return Status::Corrupt("malformed step message from rank 0: " + what); }

}  // namespace

std::vector<int64_t> EncodeInit(int64_t num_blocks, int64_t block_size) { return {num_blocks, block_size}; }

Status DecodeInit(const std::vector<int64_t>& words, int64_t& num_blocks, int64_t& block_size) {
  if (words.size() != 2 || words[0] <= 0 || words[1] <= 0 || words[0] > (int64_t{1} << 30) || words[1] > (1 << 20))
    return Malformed("bad KV geometry");
  num_blocks = words[0];
  block_size = words[1];
  return Status::Ok();
}

std::vector<int64_t> EncodeStep(const Batch& batch, int stop_after) {
  std::vector<int64_t> w = {stop_after, static_cast<int64_t>(batch.tokens.size()), static_cast<int64_t>(batch.seqs.size())};
  w.insert(w.end(), batch.tokens.begin(), batch.tokens.end());
  for (const BatchSequence& s : batch.seqs) {
    w.insert(w.end(), {s.first_row, s.num_rows, s.start_pos, static_cast<int64_t>(s.block_table.size()),
                       int64_t{s.want_logits}, int64_t{s.all_logits}});
    w.insert(w.end(), s.block_table.begin(), s.block_table.end());
  }
  return w;
}

Status DecodeStep(const std::vector<int64_t>& words, Batch& batch, std::vector<int32_t>& tables, int& stop_after) {
  WordReader r(words);
  int64_t stop = 0, n_tokens = 0, n_seqs = 0;
  if (!r.Next(stop) || !r.Next(n_tokens) || !r.Next(n_seqs)) return Malformed("short header");
  if (!FitsInt32(stop) || n_tokens < 0 || n_seqs < 0 || static_cast<uint64_t>(n_tokens) > r.left() ||
      static_cast<uint64_t>(n_seqs) > r.left() / kSeqWords)
    return Malformed("counts exceed the message");
  stop_after = static_cast<int>(stop);
  batch.tokens.resize(static_cast<size_t>(n_tokens));
  for (int32_t& t : batch.tokens) {
    int64_t v = 0;
    if (!r.Next(v) || !FitsInt32(v)) return Malformed("token id");
    t = static_cast<int32_t>(v);
  }
  // The tables are decoded first and the spans set after, so growing `tables` cannot leave a span dangling.
  tables.clear();
  std::vector<size_t> table_begin(static_cast<size_t>(n_seqs));
  batch.seqs.assign(static_cast<size_t>(n_seqs), {});
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    BatchSequence& s = batch.seqs[i];
    int64_t len = 0, want = 0, all = 0;
    if (!r.Next(s.first_row) || !r.Next(s.num_rows) || !r.Next(s.start_pos) || !r.Next(len) || !r.Next(want) ||
        !r.Next(all) || len < 0 || static_cast<uint64_t>(len) > r.left())
      return Malformed("sequence " + std::to_string(i));
    s.want_logits = want != 0;
    s.all_logits = all != 0;
    table_begin[i] = tables.size();
    for (int64_t b = 0; b < len; ++b) {
      int64_t v = 0;
      if (!r.Next(v) || !FitsInt32(v)) return Malformed("block id");
      tables.push_back(static_cast<int32_t>(v));
    }
  }
  if (!r.done()) return Malformed("trailing words");
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const size_t end = i + 1 < batch.seqs.size() ? table_begin[i + 1] : tables.size();
    batch.seqs[i].block_table = std::span<const int32_t>(tables.data() + table_begin[i], end - table_begin[i]);
  }
  return Status::Ok();
}

}  // namespace strata
