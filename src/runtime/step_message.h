// What rank 0 of a distributed job tells the other ranks before each step: a command and, for a step, the
// batch (token ids, each sequence's rows, positions and block table), flattened into 64-bit words so one
// broadcast carries it. The decoder checks every count against the words that remain: a message that does not
// parse is refused, never read past its end.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "runtime/batch.h"

namespace strata {

enum class StepCommand : int64_t { kInit = 1, kStep = 2, kStop = 3 };

// The fixed-size part broadcast first (workers wait for it while rank 0 is idle), then `words` words.
struct StepHeader {
  int64_t magic = kMagic;
  int64_t command = 0;
  int64_t words = 0;
  int64_t serial = 0;  // counts messages, so a rank out of step is noticed
  static constexpr int64_t kMagic = 0x5354524154413031;  // "STRATA01"
};

// kInit: the KV cache geometry every rank allocates.
std::vector<int64_t> EncodeInit(int64_t num_blocks, int64_t block_size);
[[nodiscard]] Status DecodeInit(const std::vector<int64_t>& words, int64_t& num_blocks, int64_t& block_size);

// kStep: the batch and the node to stop after (-1: run the whole plan). The decoded batch's block tables
// point into `tables`, which must outlive it.
std::vector<int64_t> EncodeStep(const Batch& batch, int stop_after);
[[nodiscard]] Status DecodeStep(const std::vector<int64_t>& words, Batch& batch, std::vector<int32_t>& tables,
                                int& stop_after);

}  // namespace strata
