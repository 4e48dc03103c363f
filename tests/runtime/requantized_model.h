// A copy of the shared F32 tiny model with some of its weights requantized in place to another dtype (the
// rows only shrink, so every tensor keeps its offset and the data start stays aligned), for running a whole
// model in a dtype the shared files do not come in.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "model/gguf.h"
#include "testdata.h"

namespace strata::testing {

// Writes the F32 model with every tensor whose name `pick` accepts requantized to `dtype` into the scratch
// folder as tiny-llama-<tag>.gguf; returns the path and counts the tensors changed in *patched.
inline std::string WriteRequantizedModel(DType dtype, const std::function<bool(const std::string&)>& pick,
                                         const std::string& tag, int* patched) {
  using Bytes = std::vector<uint8_t>;
  const std::string src = TestDataPath("models/tiny-llama-f32.gguf");
  std::ifstream in(src, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto gguf = GgufFile::Open(src);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  *patched = 0;
  for (const GgufTensorInfo& t : (*gguf)->tensors()) {
    if (!pick(t.name)) continue;
    EXPECT_EQ(t.ggml_type, static_cast<uint32_t>(DType::kF32));
    const int64_t K = t.dims[0], rows = t.dims[1];
    uint8_t* data = bytes.data() + (*gguf)->data_offset() + t.offset;
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(row.data(), data + r * K * 4, static_cast<size_t>(K) * 4);
      QuantizeRow(dtype, row.data(), data + r * RowBytes(dtype, K), K);
    }
    // The tensor info: name (u64 length, bytes), n_dims (u32), n_dims u64 dims, then the u32 type.
    const uint64_t name_len = t.name.size();
    Bytes key(8);
    std::memcpy(key.data(), &name_len, 8);
    key.insert(key.end(), t.name.begin(), t.name.end());
    const auto at = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
    EXPECT_NE(at, bytes.end()) << t.name;
    const size_t type_pos = static_cast<size_t>(at - bytes.begin()) + key.size() + 4 + 8 * t.dims.size();
    const uint32_t type = static_cast<uint32_t>(dtype);
    std::memcpy(bytes.data() + type_pos, &type, 4);
    ++*patched;
  }
  const std::string path = ScratchDir() + "/tiny-llama-" + tag + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace strata::testing
