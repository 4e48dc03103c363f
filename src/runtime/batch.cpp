#include "runtime/batch.h"

#include <string>

namespace strata {
namespace {

Status CheckSequence(const BatchSequence& s, size_t index, int64_t next_row, int64_t block_size,
                     int64_t num_blocks) {
  const std::string where = "batch sequence " + std::to_string(index);
  if (s.first_row != next_row || s.num_rows <= 0)
    return Status::InvalidArgument(where + ": rows must be contiguous, non-empty and in order");
  const int64_t end = s.start_pos + s.num_rows;
  if (s.start_pos < 0 || (end + block_size - 1) / block_size > static_cast<int64_t>(s.block_table.size()))
    return Status::OutOfRange(where + ": block table of " + std::to_string(s.block_table.size()) +
                              " blocks does not cover " + std::to_string(end) + " positions");
  for (int32_t b : s.block_table)
    if (b < 0 || b >= num_blocks) return Status::OutOfRange(where + ": block id " + std::to_string(b) + " out of range");
  return Status::Ok();
}

}  // namespace

Status LayoutBatch(const Batch& batch, int64_t block_size, int64_t num_blocks, BatchLayout& layout) {
  const auto T = static_cast<int64_t>(batch.tokens.size());
  if (T == 0 || batch.seqs.empty()) return Status::InvalidArgument("empty batch");
  layout.positions.resize(static_cast<size_t>(T));
  layout.slots.resize(static_cast<size_t>(T));
  layout.row_seq.resize(static_cast<size_t>(T));
  layout.logit_rows.clear();
  int64_t row = 0;
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const BatchSequence& s = batch.seqs[i];
    STRATA_RETURN_IF_ERROR(CheckSequence(s, i, row, block_size, num_blocks));
    const int64_t first = row;
    for (int64_t r = 0; r < s.num_rows; ++r, ++row) {
      if (row >= T) return Status::InvalidArgument("batch sequences have more rows than tokens");
      const int64_t pos = s.start_pos + r;
      const auto u = static_cast<size_t>(row);
      layout.positions[u] = static_cast<int32_t>(pos);
      layout.slots[u] = s.block_table[static_cast<size_t>(pos / block_size)] * block_size + pos % block_size;
      layout.row_seq[u] = static_cast<int32_t>(i);
    }
    if (s.all_logits)
      for (int64_t r = first; r < row; ++r) layout.logit_rows.push_back(static_cast<int32_t>(r));
    else if (s.want_logits)
      layout.logit_rows.push_back(static_cast<int32_t>(row - 1));
  }
  if (row != T) return Status::InvalidArgument("batch sequences cover " + std::to_string(row) + " of " +
                                               std::to_string(T) + " tokens");
  return Status::Ok();
}

}  // namespace strata
