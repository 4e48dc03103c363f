#include "model/gguf_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/gguf.h"
#include "testdata.h"

namespace strata {
namespace {

GgufValue Arr(GgufType elem, std::vector<GgufValue> items) {
  return GgufValue{GgufType::kArray, GgufArray{elem, std::move(items)}};
}

// Bytes of `rows` rows of `cols` values quantized to `t`.
std::vector<uint8_t> MakeTensor(DType t, int64_t rows, int64_t cols) {
  std::vector<float> row(static_cast<size_t>(cols));
  const auto row_bytes = static_cast<size_t>(RowBytes(t, cols));
  std::vector<uint8_t> out(static_cast<size_t>(rows) * row_bytes);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) row[size_t(c)] = std::sin(0.37f * float(r * cols + c)) * 0.5f;
    QuantizeRow(t, row.data(), out.data() + size_t(r) * row_bytes, cols);
  }
  return out;
}

TEST(GgufWriterTest, RoundTripsMetadataAndTensors) {
  const std::vector<std::pair<std::string, GgufValue>> kvs = {
      {"general.architecture", {GgufType::kString, std::string("llama")}},
      {"k.u8", {GgufType::kU8, uint64_t{200}}},
      {"k.i8", {GgufType::kI8, int64_t{-100}}},
      {"k.u16", {GgufType::kU16, uint64_t{60000}}},
      {"k.i16", {GgufType::kI16, int64_t{-30000}}},
      {"k.u32", {GgufType::kU32, uint64_t{4000000000u}}},
      {"k.i32", {GgufType::kI32, int64_t{-2000000000}}},
      {"k.u64", {GgufType::kU64, uint64_t{1} << 60}},
      {"k.i64", {GgufType::kI64, -(int64_t{1} << 60)}},
      {"k.f32", {GgufType::kF32, 0.25}},
      {"k.f64", {GgufType::kF64, 1e-300}},
      {"k.bool", {GgufType::kBool, true}},
      {"k.str", {GgufType::kString, std::string("h\xc3\xa9llo\n")}},
      {"k.strs", Arr(GgufType::kString, {{GgufType::kString, std::string("a")}, {GgufType::kString, std::string()}})},
      {"k.f32s", Arr(GgufType::kF32, {{GgufType::kF32, -1.5}, {GgufType::kF32, 3.0}})},
      {"k.nested", Arr(GgufType::kArray, {Arr(GgufType::kI32, {{GgufType::kI32, int64_t{-7}}})})},
      {"general.alignment", {GgufType::kU32, uint64_t{64}}},
  };
  struct T {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<T> tensors = {
      {"norm", DType::kF32, {7}},       {"half", DType::kF16, {3, 5}},     {"q8", DType::kQ8_0, {2, 64}},
      {"q4", DType::kQ4_0, {3, 32}},    {"q4k", DType::kQ4_K, {2, 256}},   {"q6k", DType::kQ6_K, {2, 1, 256}},
  };

  GgufWriter w;
  for (const auto& [k, v] : kvs) w.AddKv(k, v);
  for (const T& t : tensors) ASSERT_TRUE(w.AddTensorInfo(t.name, t.dtype, t.shape).ok()) << t.name;
  const std::string path = testing::ScratchDir() + "/writer_round_trip.gguf";
  ASSERT_TRUE(w.WriteHeader(path).ok());
  std::vector<std::vector<uint8_t>> data;
  for (const T& t : tensors) {
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < t.shape.size(); ++i) rows *= t.shape[i];
    data.push_back(MakeTensor(t.dtype, rows, t.shape.back()));
    // in two pieces, to exercise partial writes
    const size_t half = data.back().size() / 2;
    ASSERT_TRUE(w.WriteTensorData(data.back().data(), half).ok());
    ASSERT_TRUE(w.WriteTensorData(data.back().data() + half, data.back().size() - half).ok());
  }
  EXPECT_FALSE(w.WriteTensorData("x", 1).ok());  // past the last tensor
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.written_bytes(), w.data_bytes());

  auto opened = GgufFile::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const GgufFile& f = **opened;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  ASSERT_EQ(f.metadata().size(), kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    const auto& [key, value] = f.metadata()[i];
    EXPECT_EQ(key, kvs[i].first);
    EXPECT_EQ(value.type, kvs[i].second.type) << key;
    EXPECT_EQ(value.ToString(100), kvs[i].second.ToString(100)) << key;
  }
  EXPECT_EQ(*f.GetUint("k.u64"), uint64_t{1} << 60);
  EXPECT_EQ(*f.Find("k.i64")->AsInt(), -(int64_t{1} << 60));
  EXPECT_EQ(*f.GetFloat("k.f64"), 1e-300);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& info = f.tensors()[i];
    EXPECT_EQ(info.name, tensors[i].name);
    EXPECT_EQ(info.Shape(), tensors[i].shape) << info.name;
    EXPECT_EQ(info.ggml_type, static_cast<uint32_t>(tensors[i].dtype)) << info.name;
    EXPECT_EQ(info.offset % 64, 0u) << info.name;
    ASSERT_EQ(info.nbytes, data[i].size()) << info.name;
    auto view = f.TensorView(info);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(std::memcmp(view->data(), data[i].data(), data[i].size()), 0) << info.name;
  }
}

TEST(GgufWriterTest, RejectsBadTensorsAndShortData) {
  GgufWriter w;
  EXPECT_EQ(w.AddTensorInfo("bad", DType::kQ4_0, {2, 33}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(w.AddTensorInfo("empty", DType::kF32, {}).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(w.AddTensorInfo("t", DType::kF32, {4}).ok());
  EXPECT_FALSE(w.WriteHeader(testing::ScratchDir() + "/no/such/dir/x.gguf").ok());
  ASSERT_TRUE(w.WriteHeader(testing::ScratchDir() + "/short.gguf").ok());
  const float x[2] = {1, 2};
  ASSERT_TRUE(w.WriteTensorData(x, sizeof(x)).ok());
  const Status st = w.Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'t'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace strata
