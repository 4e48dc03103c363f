// The safetensors reader on crafted files: every malformed header is a clear error (never a crash or a hang),
// and a well-formed file gives views of its data.
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "testdata.h"

namespace strata {
namespace {

// A file: 8-byte little-endian header length, the header (padded with spaces to a multiple of 8, as Hugging
// Face writes it, so the data area starts aligned), then `data`.
std::string File(std::string header, const std::string& data = std::string(64, '\0')) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

Status OpenStatus(const std::string& bytes) {
  auto f = SafetensorsFile::FromBytes("crafted.safetensors", bytes);
  return f.ok() ? Status::Ok() : f.status();
}

void ExpectError(const std::string& bytes, Status::Code code, const std::string& needle) {
  const Status st = OpenStatus(bytes);
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("crafted.safetensors"), std::string::npos) << st.message();
}

TEST(Safetensors, ReadsTensorsAndIgnoresMetadata) {
  std::string data(24, '\0');
  const float a[2] = {1.5f, -2.0f};
  std::memcpy(data.data(), a, sizeof a);
  const uint16_t h[4] = {0x3C00, 0x4000, 0x3F80, 0xC000};  // f16 1, 2; bf16 1, -2
  std::memcpy(data.data() + 8, h, sizeof h);
  auto f = SafetensorsFile::FromBytes(
      "ok.safetensors",
      File(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"("h":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},)"
           R"("i":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}}        )",
           data));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->tensors().size(), 4u);
  ASSERT_NE((*f)->Find("h"), nullptr);
  EXPECT_EQ((*f)->Find("h")->shape, (std::vector<int64_t>{1, 2}));
  auto a_view = (*f)->TensorView(*(*f)->Find("a"));
  ASSERT_TRUE(a_view.ok());
  EXPECT_EQ(a_view->dtype(), DType::kF32);
  EXPECT_EQ(a_view->data_as<float>()[1], -2.0f);
  auto b_view = (*f)->TensorView(*(*f)->Find("b"));
  ASSERT_TRUE(b_view.ok());
  EXPECT_EQ(b_view->dtype(), DType::kBF16);
  EXPECT_EQ(Bf16ToFp32(b_view->data_as<uint16_t>()[1]), -2.0f);
  auto i_view = (*f)->TensorView(*(*f)->Find("i"));
  EXPECT_EQ(i_view.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(i_view.status().message().find("I64"), std::string::npos) << i_view.status().message();
}

TEST(Safetensors, TruncatedAndOversizedHeadersAreErrors) {
  ExpectError("", Status::Code::kCorrupt, "shorter than its 8-byte header length");
  ExpectError(std::string("\x05\0\0", 3), Status::Code::kCorrupt, "shorter");
  // Header length past the end of the file, and one at 2^64 - 1 (no overflow of 8 + length).
  ExpectError(File("{}").substr(0, 9), Status::Code::kCorrupt, "exceeds the file");
  ExpectError(std::string(8, '\xFF') + "{}", Status::Code::kCorrupt, "exceeds the file");
  std::string huge = File("{}", std::string(16, ' '));
  huge[3] = 0x7F;  // ~2 GiB header in a 26-byte file
  ExpectError(huge, Status::Code::kCorrupt, "exceeds the file");
}

TEST(Safetensors, BadJsonIsAnError) {
  ExpectError(File("{\"a\": "), Status::Code::kCorrupt, "not a JSON object");
  ExpectError(File("[1, 2]"), Status::Code::kCorrupt, "not a JSON object");
  ExpectError(File(std::string(100000, '[')), Status::Code::kCorrupt, "not a JSON object");
  // Deep but well-formed nesting in the ignored metadata: parsed and freed without recursion.
  EXPECT_TRUE(OpenStatus(File("{\"__metadata__\":" + std::string(300000, '[') + std::string(300000, ']') + "}")).ok());
  ExpectError(File(R"({"a": 3})"), Status::Code::kCorrupt, "is not an object");
  ExpectError(File(R"({"a": {"dtype": "F32", "shape": [1]}})"), Status::Code::kCorrupt, "data_offsets");
  ExpectError(File(R"({"a": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}})"), Status::Code::kCorrupt, "dtype");
}

TEST(Safetensors, DtypesShapesAndSizesAreChecked) {
  ExpectError(File(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})"), Status::Code::kUnsupported, "F33");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), Status::Code::kCorrupt, "not a dimension");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})"), Status::Code::kCorrupt, "not a dimension");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})"),
              Status::Code::kCorrupt, "more elements than fit");
  ExpectError(File(R"({"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,4]}})"),
              Status::Code::kCorrupt, "more bits than fit");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})"), Status::Code::kCorrupt,
              "holds 8 bytes but shape [3] of F32 needs 12");
  ExpectError(File(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})"), Status::Code::kCorrupt, "fractional");
}

TEST(Safetensors, OffsetsMustBeOrderedInsideTheDataAndNotOverlap) {
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[64,68]}})"), Status::Code::kCorrupt,
              "inside the data area of 64 bytes");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})"), Status::Code::kCorrupt, "ordered range");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}})"),
              Status::Code::kCorrupt, "inside the data area");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})"), Status::Code::kCorrupt,
              "non-negative");
  ExpectError(File(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})"),
              Status::Code::kCorrupt, "overlap");
  // Empty tensors overlap nothing.
  EXPECT_TRUE(OpenStatus(File(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})"))
                  .ok());
}

TEST(Safetensors, MisalignedDataIsRefusedByTheView) {
  auto f = SafetensorsFile::FromBytes("m.safetensors", File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto v = (*f)->TensorView(*(*f)->Find("a"));
  EXPECT_EQ(v.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(v.status().message().find("not aligned"), std::string::npos) << v.status().message();
}

void Write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

TEST(Safetensors, ShardedFolderFollowsTheIndex) {
  const std::string dir = testing::ScratchDir() + "/shards";
  std::filesystem::create_directories(dir);
  Write(dir + "/one.safetensors", File(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})"));
  Write(dir + "/two.safetensors", File(R"({"y":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})"));
  Write(dir + "/model.safetensors.index.json", R"({"weight_map":{"x":"one.safetensors","y":"two.safetensors"}})");
  auto set = SafetensorsSet::OpenFolder(dir);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->Names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(set->files().size(), 2u);
  auto y = set->TensorView("y");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->dtype(), DType::kF16);
  EXPECT_EQ(set->TensorView("z").status().code(), Status::Code::kNotFound);

  Write(dir + "/model.safetensors.index.json", R"({"weight_map":{"x":"two.safetensors"}})");
  auto wrong = SafetensorsSet::OpenFolder(dir);
  EXPECT_NE(wrong.status().message().find("which has no such tensor"), std::string::npos) << wrong.status().message();
  Write(dir + "/model.safetensors.index.json", R"({"weight_map":{"x":"../one.safetensors"}})");
  auto escape = SafetensorsSet::OpenFolder(dir);
  EXPECT_NE(escape.status().message().find("not a file in the folder"), std::string::npos) << escape.status().message();
  Write(dir + "/model.safetensors.index.json", R"({"weight_map": 3})");
  EXPECT_EQ(SafetensorsSet::OpenFolder(dir).status().code(), Status::Code::kCorrupt);
}

}  // namespace
}  // namespace strata
