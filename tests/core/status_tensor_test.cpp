#include <gtest/gtest.h>

#include "core/status.h"
#include "core/tensor.h"

namespace strata {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  STRATA_ASSIGN_OR_RETURN(int h, Half(x));
  STRATA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, ResultCarriesValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(r.status().WithContext("quarter").ToString(), "invalid argument: quarter: 3 is odd");
}

TEST(Tensor, StridesAndSizesFollowBlockLayouts) {
  Tensor f = Tensor::Empty(DType::kF32, {3, 5});
  EXPECT_EQ(f.nbytes(), 60);
  EXPECT_EQ(f.strides(), (std::vector<int64_t>{20, 4}));
  EXPECT_TRUE(f.owned());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data()) % 64, 0u);
  Tensor q = Tensor::Empty(DType::kQ4_0, {2, 64});
  EXPECT_EQ(q.nbytes(), 72);
  EXPECT_EQ(q.strides(), (std::vector<int64_t>{36, 18}));
  EXPECT_EQ(q.row(1) - q.row(0), 36);
  float buf[4] = {1, 2, 3, 4};
  Tensor v = Tensor::View(DType::kF32, {2, 2}, buf);
  EXPECT_FALSE(v.owned());
  EXPECT_EQ(v.data_as<float>()[3], 4.0f);
  EXPECT_EQ(v.ShapeString(), "[2, 2]");
}

TEST(Tensor, IndexViewsOneSliceOfARank3Tensor) {
  for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_K}) {
    Tensor stacked = Tensor::Empty(t, {3, 4, 256});
    for (int64_t b = 0; b < stacked.nbytes(); ++b) stacked.mutable_data_as<uint8_t>()[b] = static_cast<uint8_t>(b * 7);
    const Tensor expected = Tensor::Empty(t, {4, 256});
    for (int64_t i = 0; i < 3; ++i) {
      const Tensor slice = stacked.Index(i);
      EXPECT_EQ(slice.shape(), (std::vector<int64_t>{4, 256})) << Name(t);
      EXPECT_EQ(slice.strides(), expected.strides()) << Name(t);
      EXPECT_EQ(slice.nbytes(), expected.nbytes()) << Name(t);
      EXPECT_EQ(slice.dtype(), t);
      for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(slice.row(r), stacked.row(i * 4 + r)) << Name(t) << " " << i << "," << r;
    }
  }
  // The view holds the storage: it outlives the tensor it came from.
  Tensor last;
  {
    Tensor f = Tensor::Empty(DType::kF32, {2, 2, 3});
    f.mutable_data_as<float>()[11] = 42.0f;
    last = f.Index(1);
  }
  EXPECT_EQ(last.data_as<float>()[5], 42.0f);
}

}  // namespace
}  // namespace strata
