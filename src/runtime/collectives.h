// The collective operations tensor-parallel ranks run together. InProcessCollectives joins N ranks that are
// threads of one process; an MPI or NCCL backend implements the same interface across processes or GPUs.
#pragma once

#include <barrier>
#include <cstdint>
#include <vector>

namespace strata {

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int size() const = 0;
  // Every rank calls it with its `in` (n floats); each gets the elementwise sum, summed in rank order so
  // all ranks hold bit-identical results.
  virtual void AllReduceSum(int rank, const float* in, float* out, int64_t n) = 0;
  // in: [rows, width] per rank; out: [rows, width * size], rank r's columns at r * width.
  virtual void AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) = 0;
};

class InProcessCollectives final : public Collectives {
 public:
  explicit InProcessCollectives(int size);
  int size() const override { return size_; }
  void AllReduceSum(int rank, const float* in, float* out, int64_t n) override;
  void AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override;

 private:
  int size_;
  std::vector<const float*> inputs_;  // one slot per rank, published before the first barrier
  std::barrier<> sync_;
};

}  // namespace strata
