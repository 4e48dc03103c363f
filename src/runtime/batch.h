// One forward step over several sequences of ragged lengths: their new tokens are concatenated row by row,
// each sequence says where its rows are, how long its context is and which KV blocks hold it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace strata {

struct BatchSequence {
  int64_t first_row = 0;                 // first of this sequence's rows in the batch
  int64_t num_rows = 0;                  // new tokens this step
  int64_t start_pos = 0;                 // position of the first new token (= tokens already in the cache)
  std::span<const int32_t> block_table;  // blocks holding positions 0 .. start_pos+num_rows-1, in order
  bool want_logits = false;              // logits of this sequence's last row are returned
  bool all_logits = false;               // ... or of every one of its rows
};

struct Batch {
  std::vector<int32_t> tokens;  // one per row; a pipeline stage after the first reads only their count
  std::vector<BatchSequence> seqs;
  // A pipeline stage after the first: the residual stream entering its first layer, [tokens.size(), dim] rows
  // in batch order (the previous stage's output). Set iff the plan has a stage_input node.
  const float* stage_input = nullptr;
};

// Per-row data derived from a batch for the kernels: position, KV slot and owning sequence of every row, and
// the rows whose logits are wanted.
struct BatchLayout {
  std::vector<int32_t> positions;
  std::vector<int64_t> slots;
  std::vector<int32_t> row_seq;
  std::vector<int32_t> logit_rows;
};

// Checks the batch against the cache geometry (rows cover the tokens exactly, block tables long enough, block
// ids in range) and fills the layout.
Status LayoutBatch(const Batch& batch, int64_t block_size, int64_t num_blocks, BatchLayout& layout);

}  // namespace strata
