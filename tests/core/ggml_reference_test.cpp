// Quantization and dequantization against ggml's own: the reference functions of libggml-base.so from the
// prebuilt llama.cpp that bench/llama_cpp/setup.sh installs ($STRATA_LLAMA_CPP, else /tmp/strata-llama-cpp),
// loaded at run time. QuantizeRow must write the bytes ggml's quantize_row_<type>_ref writes, and DequantizeRow
// give the floats ggml's dequantize_row_<type> gives, on rows of several magnitudes. Skipped without the library.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace strata {
namespace {

using QuantizeFn = void (*)(const float*, void*, int64_t);
using DequantizeFn = void (*)(const void*, float*, int64_t);

std::string GgmlBaseLibrary() {
  const char* env = std::getenv("STRATA_LLAMA_CPP");
  const std::string dir = env && *env ? env : "/tmp/strata-llama-cpp";
  return dir + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";
}

TEST(GgmlReference, QuantizeAndDequantizeEqualGgmls) {
  void* lib = ::dlopen(GgmlBaseLibrary().c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) GTEST_SKIP() << "ggml's library not found (" << GgmlBaseLibrary() << "): run bench/llama_cpp/setup.sh";
  const int64_t n = 32 * 1024;  // a multiple of every block size (32 and the K-quants' 256)
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K,
                  DType::kQ6_K}) {
    std::string name = Name(t);
    if (name.back() == 'k') name.back() = 'K';  // ggml spells the K-quants' functions quantize_row_q4_K_ref
    SCOPED_TRACE(name);
    const auto quantize = reinterpret_cast<QuantizeFn>(::dlsym(lib, ("quantize_row_" + name + "_ref").c_str()));
    const auto dequantize = reinterpret_cast<DequantizeFn>(::dlsym(lib, ("dequantize_row_" + name).c_str()));
    ASSERT_NE(quantize, nullptr);
    ASSERT_NE(dequantize, nullptr);
    for (float scale : {0.02f, 1.0f, 300.0f}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = scale * (normal(rng) + 0.3f * normal(rng) * normal(rng));
      std::fill(x.begin(), x.begin() + 32, 0.0f);        // a block of zeros
      std::fill(x.begin() + 32, x.begin() + 64, scale);  // a constant block
      std::vector<uint8_t> ours(static_cast<size_t>(RowBytes(t, n))), theirs(ours.size());
      QuantizeRow(t, x.data(), ours.data(), n);
      quantize(x.data(), theirs.data(), n);
      EXPECT_EQ(ours, theirs) << "scale " << scale;
      std::vector<float> y_ours(x.size()), y_theirs(x.size());
      DequantizeRow(t, theirs.data(), y_ours.data(), n);
      dequantize(theirs.data(), y_theirs.data(), n);
      EXPECT_EQ(y_ours, y_theirs) << "scale " << scale;
    }
  }
  ::dlclose(lib);
}

}  // namespace
}  // namespace strata
