#include "model/gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "testdata.h"

namespace strata {
namespace {

using Bytes = std::vector<uint8_t>;

// Little-endian GGUF byte builder for hand-made files.
class ByteWriter {
 public:
  template <class T>
  ByteWriter& Put(T x) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  ByteWriter& Str(std::string_view s) {
    Put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  ByteWriter& Header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bytes.insert(bytes.end(), {'G', 'G', 'U', 'F'});
    return Put(version).Put(n_tensors).Put(n_kv);
  }
  ByteWriter& Key(std::string_view k, GgufType t) { return Str(k).Put(static_cast<uint32_t>(t)); }
  ByteWriter& ArrayHead(GgufType elem, uint64_t n) { return Put(static_cast<uint32_t>(elem)).Put(n); }
  ByteWriter& TensorInfo(std::string_view name, std::initializer_list<uint64_t> dims, uint32_t type, uint64_t off) {
    Str(name).Put(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) Put(d);
    return Put(type).Put(off);
  }
  ByteWriter& Pad(size_t align) {
    while (align > 1 && bytes.size() % align) bytes.push_back(0);
    return *this;
  }
  Bytes bytes;
};

std::string WriteScratch(const std::string& name, const Bytes& b) {
  const std::string path = testing::ScratchDir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return path;
}

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class T>
void Poke(Bytes& b, size_t pos, T v) {
  ASSERT_LE(pos + sizeof(T), b.size());
  std::memcpy(b.data() + pos, &v, sizeof(T));
}

template <class T>
T Peek(const Bytes& b, size_t pos) {
  T v{};
  std::memcpy(&v, b.data() + pos, sizeof(T));
  return v;
}

// Byte position just after the length-prefixed string `s` (a key or tensor name), or 0 when absent.
size_t After(const Bytes& b, std::string_view s) {
  ByteWriter w;
  w.Str(s);
  const auto it = std::search(b.begin(), b.end(), w.bytes.begin(), w.bytes.end());
  return it == b.end() ? 0 : size_t(it - b.begin()) + w.bytes.size();
}

// Field positions of a tensor info located by its name.
struct InfoPos {
  size_t n_dims, dims, type, offset;
};
InfoPos FindInfo(const Bytes& b, std::string_view name) {
  const size_t p = After(b, name);
  EXPECT_NE(p, 0u) << name;
  const uint32_t n = Peek<uint32_t>(b, p);
  return {p, p + 4, p + 4 + 8 * n, p + 4 + 8 * n + 4};
}

std::string ModelPath(const std::string& variant) {
  return testing::TestDataPath("models/tiny-llama-" + variant + ".gguf");
}

Bytes F32Model() { return ReadBytes(ModelPath("f32")); }

// Writes `b`, opens it and expects failure with `code` and a message naming the file and every `parts`.
void ExpectOpenFails(const std::string& name, const Bytes& b, Status::Code code,
                     std::initializer_list<std::string> parts) {
  const std::string path = WriteScratch(name, b);
  const auto f = GgufFile::Open(path);
  ASSERT_FALSE(f.ok()) << name << " opened";
  EXPECT_EQ(f.status().code(), code) << f.status().ToString();
  EXPECT_NE(f.status().message().find(name), std::string::npos) << f.status().message();
  for (const auto& p : parts) EXPECT_NE(f.status().message().find(p), std::string::npos) << "missing '" << p << "' in: "
                                                                                          << f.status().message();
}

void ExpectCorrupt(const std::string& name, const Bytes& b, std::initializer_list<std::string> parts) {
  ExpectOpenFails(name, b, Status::Code::kCorrupt, parts);
}

std::unique_ptr<GgufFile> OpenOk(const std::string& path) {
  auto f = GgufFile::Open(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? std::move(f).value() : nullptr;
}

// ---- shared model files ----

void CheckTinyLlamaMetadata(const GgufFile& f) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUint("llama.embedding_length"), 192u);
  EXPECT_EQ(*f.GetUint("llama.block_count"), 4u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count"), 6u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(*f.GetUint("llama.feed_forward_length"), 512u);
  EXPECT_NEAR(*f.GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
  EXPECT_TRUE(*f.GetBool("tokenizer.ggml.add_bos_token"));
  const GgufValue* tokens = f.Find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(tokens->AsArray(), nullptr);
  EXPECT_EQ(tokens->AsArray()->elem_type, GgufType::kString);
  ASSERT_EQ(tokens->AsArray()->items.size(), 1024u);
  EXPECT_EQ(*tokens->AsArray()->items[1].AsString(), "<s>");
  EXPECT_EQ(tokens->ToString(2), "string[1024] [\"<unk>\", \"<s>\", ...]");
}

TEST(GgufModelFiles, OpenEveryVariant) {
  STRATA_REQUIRE_TESTDATA();
  const std::pair<const char*, uint32_t> variants[] = {{"f32", 0}, {"f16", 1}, {"q8_0", 8}, {"q4_0", 2}};
  for (const auto& [variant, matrix_type] : variants) {
    SCOPED_TRACE(variant);
    auto f = OpenOk(ModelPath(variant));
    ASSERT_NE(f, nullptr);
    CheckTinyLlamaMetadata(*f);
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_EQ(f->data_offset() % 32, 0u);
    ASSERT_EQ(f->tensors().size(), 39u);
    const GgufTensorInfo* embd = f->FindTensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->Shape(), (std::vector<int64_t>{1024, 192}));
    EXPECT_EQ(embd->ggml_type, matrix_type);
    EXPECT_EQ(f->FindTensor("blk.0.attn_norm.weight")->ggml_type, 0u);  // norms stay f32
    EXPECT_EQ(f->FindTensor("blk.3.ffn_down.weight")->ggml_type, matrix_type);
    EXPECT_EQ(f->FindTensor("no.such.tensor"), nullptr);
    for (const auto& t : f->tensors()) {
      auto view = f->TensorView(t);
      ASSERT_TRUE(view.ok()) << view.status().ToString();
      EXPECT_EQ(static_cast<uint64_t>(view->nbytes()), t.nbytes) << t.name;
      EXPECT_LE(f->data_offset() + t.offset + t.nbytes, f->file_size()) << t.name;
    }
  }
}

TEST(GgufModelFiles, F32TokenEmbeddingIsTheFileBytes) {
  STRATA_REQUIRE_TESTDATA();
  const Bytes bytes = F32Model();
  auto f = OpenOk(ModelPath("f32"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->file_size(), bytes.size());
  const GgufTensorInfo* embd = f->FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->nbytes, 1024u * 192u * 4u);
  auto view = f->TensorView(*embd);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->dtype(), DType::kF32);
  EXPECT_EQ(view->shape(), (std::vector<int64_t>{1024, 192}));
  const size_t start = f->data_offset() + embd->offset;
  for (int i = 0; i < 16; ++i) EXPECT_EQ(view->data_as<float>()[i], Peek<float>(bytes, start + 4 * i)) << i;
  // The view keeps the mapping alive after the file object is gone.
  f.reset();
  EXPECT_EQ(view->data_as<float>()[0], Peek<float>(bytes, start));
}

TEST(GgufModelFiles, VocabularyFile) {
  STRATA_REQUIRE_TESTDATA();
  auto f = OpenOk(testing::TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->tensors().size(), 0u);
  EXPECT_EQ(*f->GetString("general.architecture"), "llama");
  EXPECT_EQ(*f->GetUint("llama.embedding_length"), 4096u);
  const GgufArray* tokens = f->Find("tokenizer.ggml.tokens")->AsArray();
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->items.size(), 32000u);
  for (const auto& t : tokens->items) ASSERT_EQ(t.type, GgufType::kString);
  EXPECT_EQ(f->Find("tokenizer.ggml.scores")->AsArray()->elem_type, GgufType::kF32);
}

TEST(GgufModelFiles, GetterErrorsNameFileAndKey) {
  STRATA_REQUIRE_TESTDATA();
  auto f = OpenOk(ModelPath("f32"));
  ASSERT_NE(f, nullptr);
  auto missing = f->GetUint("llama.no_such_key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("tiny-llama-f32.gguf: metadata key 'llama.no_such_key' is missing"),
            std::string::npos)
      << missing.status().message();
  auto wrong = f->GetUint("general.architecture");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("metadata key 'general.architecture' has type string, expected an integer"),
            std::string::npos)
      << wrong.status().message();
  EXPECT_FALSE(f->GetString("llama.block_count").ok());
  EXPECT_FALSE(f->GetBool("llama.block_count").ok());
  EXPECT_FALSE(f->GetFloat("general.name").ok());
}

TEST(GgufModelFiles, MissingFileIsIoError) {
  auto f = GgufFile::Open(testing::ScratchDir() + "/does-not-exist.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kIoError);
}

// ---- hand-written files ----

Bytes AllTypesFile(uint32_t version) {
  ByteWriter w;
  w.Header(version, 1, 17);
  w.Key("t.u8", GgufType::kU8).Put<uint8_t>(200);
  w.Key("t.i8", GgufType::kI8).Put<int8_t>(-100);
  w.Key("t.u16", GgufType::kU16).Put<uint16_t>(60000);
  w.Key("t.i16", GgufType::kI16).Put<int16_t>(-30000);
  w.Key("t.u32", GgufType::kU32).Put<uint32_t>(4000000000u);
  w.Key("t.i32", GgufType::kI32).Put<int32_t>(-2000000000);
  w.Key("t.f32", GgufType::kF32).Put<float>(1.5f);
  w.Key("t.bool", GgufType::kBool).Put<uint8_t>(1);
  w.Key("t.string", GgufType::kString).Str("hi \"there\"\n");
  w.Key("t.u64", GgufType::kU64).Put<uint64_t>(UINT64_MAX);
  w.Key("t.i64", GgufType::kI64).Put<int64_t>(INT64_MIN);
  w.Key("t.f64", GgufType::kF64).Put<double>(0.1);
  w.Key("t.empty_string", GgufType::kString).Str("");
  w.Key("t.arr_i16", GgufType::kArray).ArrayHead(GgufType::kI16, 3).Put<int16_t>(-1).Put<int16_t>(2).Put<int16_t>(3);
  w.Key("t.arr_str", GgufType::kArray).ArrayHead(GgufType::kString, 2).Str("a").Str("bc");
  w.Key("t.nested", GgufType::kArray).ArrayHead(GgufType::kArray, 2);
  w.ArrayHead(GgufType::kU32, 2).Put<uint32_t>(1).Put<uint32_t>(2);
  w.ArrayHead(GgufType::kU32, 1).Put<uint32_t>(3);
  w.Key("t.empty_arr", GgufType::kArray).ArrayHead(GgufType::kF64, 0);
  w.TensorInfo("w", {4, 2}, 0, 0).Pad(32);
  for (int i = 0; i < 8; ++i) w.Put<float>(float(i) * 0.5f);
  return w.bytes;
}

void CheckAllTypes(const GgufFile& f) {
  EXPECT_EQ(f.metadata().size(), 17u);
  EXPECT_EQ(*f.GetUint("t.u8"), 200u);
  EXPECT_EQ(*f.Find("t.i8")->AsInt(), -100);
  EXPECT_EQ(*f.GetUint("t.u16"), 60000u);
  EXPECT_EQ(*f.Find("t.i16")->AsInt(), -30000);
  EXPECT_EQ(*f.GetUint("t.u32"), 4000000000u);
  EXPECT_EQ(*f.Find("t.i32")->AsInt(), -2000000000);
  EXPECT_EQ(*f.GetFloat("t.f32"), 1.5);
  EXPECT_TRUE(*f.GetBool("t.bool"));
  EXPECT_EQ(*f.GetString("t.string"), "hi \"there\"\n");
  EXPECT_EQ(*f.GetUint("t.u64"), UINT64_MAX);
  EXPECT_EQ(*f.Find("t.i64")->AsInt(), INT64_MIN);
  EXPECT_EQ(*f.GetFloat("t.f64"), 0.1);
  EXPECT_EQ(*f.GetString("t.empty_string"), "");
  for (const auto& [key, value] : f.metadata()) EXPECT_EQ(f.Find(key), &value);

  const GgufArray* nested = f.Find("t.nested")->AsArray();
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->elem_type, GgufType::kArray);
  ASSERT_EQ(nested->items.size(), 2u);
  const GgufArray* inner = nested->items[0].AsArray();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->elem_type, GgufType::kU32);
  ASSERT_EQ(inner->items.size(), 2u);
  EXPECT_EQ(*inner->items[1].AsUint(), 2u);
  EXPECT_EQ(*nested->items[1].AsArray()->items[0].AsUint(), 3u);
  EXPECT_EQ(f.Find("t.empty_arr")->AsArray()->items.size(), 0u);

  ASSERT_EQ(f.tensors().size(), 1u);
  auto view = f.TensorView(f.tensors()[0]);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->shape(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(view->data_as<float>()[7], 3.5f);
}

TEST(GgufHandWritten, EveryValueTypeV3) {
  auto f = OpenOk(WriteScratch("all-types-v3.gguf", AllTypesFile(3)));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  CheckAllTypes(*f);
}

TEST(GgufHandWritten, EveryValueTypeV2) {
  auto f = OpenOk(WriteScratch("all-types-v2.gguf", AllTypesFile(2)));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 2u);
  CheckAllTypes(*f);
}

// The in-memory entry point (the fuzz target's): same parse, the name stands for the path, and the tensor
// views point into its own copy, which outlives the caller's buffer.
TEST(GgufHandWritten, FromBytesParsesLikeOpen) {
  Bytes b = AllTypesFile(3);
  auto f = GgufFile::FromBytes("mem.gguf", std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  std::fill(b.begin(), b.end(), 0);
  CheckAllTypes(**f);
  auto t = (*f)->TensorView(*(*f)->FindTensor("w"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->data_as<float>()[7], 3.5f);
  b = AllTypesFile(3);
  b.resize(b.size() - 1);
  auto cut = GgufFile::FromBytes("mem.gguf", std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("mem.gguf: tensor 'w'"), std::string::npos) << cut.status().message();
  EXPECT_FALSE(GgufFile::FromBytes("empty.gguf", {}).ok());
}

TEST(GgufHandWritten, ValueAccessorsCheckTypeAndRange) {
  auto f = OpenOk(WriteScratch("accessors.gguf", AllTypesFile(3)));
  ASSERT_NE(f, nullptr);
  auto neg = f->Find("t.i8")->AsUint();
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("-100"), std::string::npos);
  auto big = f->Find("t.u64")->AsInt();
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("18446744073709551615"), std::string::npos);
  auto str = f->Find("t.u32")->AsString();
  ASSERT_FALSE(str.ok());
  EXPECT_EQ(str.status().message(), "has type u32, expected string");
  EXPECT_FALSE(f->Find("t.string")->AsUint().ok());
  EXPECT_FALSE(f->Find("t.f32")->AsInt().ok());
  EXPECT_FALSE(f->Find("t.u8")->AsBool().ok());
  EXPECT_EQ(*f->Find("t.u16")->AsFloat(), 60000.0);
  EXPECT_EQ(f->Find("t.u8")->AsArray(), nullptr);
}

TEST(GgufHandWritten, ToString) {
  auto f = OpenOk(WriteScratch("to-string.gguf", AllTypesFile(3)));
  ASSERT_NE(f, nullptr);
  auto str = [&](const char* k, size_t n = 8) { return f->Find(k)->ToString(n); };
  EXPECT_EQ(str("t.u8"), "200");
  EXPECT_EQ(str("t.i64"), "-9223372036854775808");
  EXPECT_EQ(str("t.f32"), "1.5");
  EXPECT_EQ(str("t.f64"), "0.1");
  EXPECT_EQ(str("t.bool"), "true");
  EXPECT_EQ(str("t.string"), "\"hi \\\"there\\\"\\n\"");
  EXPECT_EQ(str("t.arr_i16"), "i16[3] [-1, 2, 3]");
  EXPECT_EQ(str("t.arr_i16", 2), "i16[3] [-1, 2, ...]");
  EXPECT_EQ(str("t.arr_i16", 0), "i16[3] [...]");
  EXPECT_EQ(str("t.arr_str"), "string[2] [\"a\", \"bc\"]");
  EXPECT_EQ(str("t.nested"), "array[2] [u32[2] [1, 2], u32[1] [3]]");
  EXPECT_EQ(str("t.empty_arr"), "f64[0] []");
  GgufValue long_string;
  long_string.type = GgufType::kString;
  long_string.v = std::string(1000, 'x');
  EXPECT_LT(long_string.ToString().size(), 200u);
  EXPECT_NE(long_string.ToString().find("(1000 bytes)"), std::string::npos);
}

Bytes AlignedFile(uint32_t alignment) {
  ByteWriter w;
  w.Header(3, 2, 2);
  w.Key("general.architecture", GgufType::kString).Str("test");
  w.Key("general.alignment", GgufType::kU32).Put<uint32_t>(alignment);
  w.TensorInfo("a", {3}, 0, 0);
  w.TensorInfo("b", {2, 2}, 1, alignment);
  w.Pad(alignment);
  w.Put<float>(1).Put<float>(2).Put<float>(3).Pad(alignment);
  for (uint16_t h : {0x3c00, 0x4000, 0x4200, 0x4400}) w.Put<uint16_t>(h);  // fp16 1, 2, 3, 4
  return w.bytes;
}

TEST(GgufHandWritten, CustomAlignment) {
  auto f = OpenOk(WriteScratch("align-64.gguf", AlignedFile(64)));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  EXPECT_EQ(f->tensors()[1].offset, 64u);
  auto a = f->TensorView(*f->FindTensor("a"));
  auto b = f->TensorView(*f->FindTensor("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data_as<float>()[2], 3.0f);
  EXPECT_EQ(Fp16ToFp32(b->data_as<uint16_t>()[3]), 4.0f);
  EXPECT_EQ(b->dtype(), DType::kF16);
}

TEST(GgufHandWritten, BadAlignment) {
  ExpectCorrupt("align-3.gguf", AlignedFile(3), {"general.alignment", "is 3", "power of two"});
  ExpectCorrupt("align-0.gguf", AlignedFile(0), {"general.alignment", "is 0"});
  Bytes b = AlignedFile(64);
  Poke<uint32_t>(b, After(b, "general.alignment"), uint32_t(GgufType::kI32));
  ExpectCorrupt("align-i32.gguf", b, {"general.alignment", "has type i32, expected u32"});
}

TEST(GgufHandWritten, UnalignedDataIsRefusedByTensorView) {
  // general.alignment 1 is legal, but f32 data at an odd address can't be read through a float pointer.
  ByteWriter w;
  w.Header(3, 4, 1).Key("general.alignment", GgufType::kU32).Put<uint32_t>(1);
  for (uint64_t i = 0; i < 4; ++i) w.TensorInfo("t" + std::to_string(i), {1}, 0, i);
  w.bytes.resize(w.bytes.size() + 8);
  auto f = OpenOk(WriteScratch("align-1.gguf", w.bytes));
  ASSERT_NE(f, nullptr);
  int refused = 0;
  for (const auto& t : f->tensors()) {
    auto view = f->TensorView(t);
    if (view.ok()) continue;
    ++refused;
    EXPECT_EQ(view.status().code(), Status::Code::kUnsupported);
    EXPECT_NE(view.status().message().find("not aligned to 4 bytes"), std::string::npos) << view.status().message();
  }
  EXPECT_EQ(refused, 3);
}

TEST(GgufHandWritten, TensorViewRejectsForeignInfo) {
  auto f = OpenOk(WriteScratch("foreign.gguf", AlignedFile(64)));
  ASSERT_NE(f, nullptr);
  GgufTensorInfo info = f->tensors()[0];
  info.offset = 1 << 20;
  auto view = f->TensorView(info);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), Status::Code::kInvalidArgument);
}

TEST(GgufHandWritten, RandomMutationsFailCleanly) {
  // Whatever the bytes say, Open() returns a value and an accepted tensor lies inside the file (ASan checks reads).
  const Bytes good = AllTypesFile(3);
  uint64_t rng = 12345;
  auto next = [&] { return (rng = rng * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  const std::string path = testing::ScratchDir() + "/mutated.gguf";
  for (int iter = 0; iter < 2000; ++iter) {
    Bytes b = good;
    for (int k = 0, n = 1 + int(next() % 4); k < n; ++k) b[next() % b.size()] = uint8_t(next());
    if (iter % 7 == 0) b.resize(next() % b.size());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    auto f = GgufFile::Open(path);
    if (!f.ok()) {
      EXPECT_FALSE(f.status().message().empty());
      continue;
    }
    for (const auto& [key, value] : (*f)->metadata()) (void)value.ToString();
    for (const auto& t : (*f)->tensors()) {
      auto view = (*f)->TensorView(t);
      if (view.ok() && view->nbytes() > 0) {
        EXPECT_EQ(std::memcmp(view->data(), b.data() + (*f)->data_offset() + t.offset, size_t(view->nbytes())), 0);
      }
    }
  }
}

TEST(GgufHandWritten, BadMetadata) {
  {
    ByteWriter w;
    w.Header(3, 0, 2).Key("dup", GgufType::kU8).Put<uint8_t>(1).Key("dup", GgufType::kU8).Put<uint8_t>(2);
    ExpectCorrupt("dup-key.gguf", w.bytes, {"metadata key 'dup'", "duplicate"});
  }
  {
    ByteWriter w;
    w.Header(3, 0, 1).Key("", GgufType::kU8).Put<uint8_t>(1);
    ExpectCorrupt("empty-key.gguf", w.bytes, {"metadata entry 0 key", "empty"});
  }
  {
    ByteWriter w;
    w.Header(3, 0, 1).Key("k", GgufType(13)).Put<uint64_t>(0);
    ExpectCorrupt("bad-value-type.gguf", w.bytes, {"metadata key 'k' value type", "unknown value type 13"});
  }
  {
    ByteWriter w;
    w.Header(3, 0, 1).Key("k", GgufType::kArray).ArrayHead(GgufType(77), 1).Put<uint64_t>(0);
    ExpectCorrupt("bad-elem-type.gguf", w.bytes, {"metadata key 'k' array element type", "77"});
  }
  {
    ByteWriter w;
    w.Header(3, 0, 1).Key("k", GgufType::kArray).ArrayHead(GgufType::kU32, uint64_t(1) << 61).Put<uint32_t>(0);
    ExpectCorrupt("huge-array.gguf", w.bytes, {"metadata key 'k' array length", "2305843009213693952 elements need at least 9223372036854775808 bytes"});
  }
  {
    ByteWriter w;
    w.Header(3, 0, 1).Key("k", GgufType::kArray).ArrayHead(GgufType::kString, 2).Str("a").Put<uint64_t>(99).Str("x");
    ExpectCorrupt("bad-item-string.gguf", w.bytes, {"metadata key 'k'[1]", "string length 99"});
  }
  {
    ByteWriter w;  // arrays nested 20 deep exceed the depth limit
    w.Header(3, 0, 1).Key("k", GgufType::kArray);
    for (int i = 0; i < 20; ++i) w.ArrayHead(GgufType::kArray, 1);
    w.ArrayHead(GgufType::kU8, 0);
    ExpectCorrupt("deep-array.gguf", w.bytes, {"metadata key 'k'[0][0]", "nested"});
  }
}

TEST(GgufHandWritten, BadTensorNames) {
  {
    ByteWriter w;
    w.Header(3, 2, 0).TensorInfo("t", {32}, 0, 0).TensorInfo("t", {32}, 0, 128).Pad(32);
    w.bytes.resize(w.bytes.size() + 256);
    ExpectCorrupt("dup-tensor.gguf", w.bytes, {"tensor 't'", "duplicate"});
  }
  {
    ByteWriter w;
    w.Header(3, 1, 0).TensorInfo("", {32}, 0, 0).Pad(32);
    w.bytes.resize(w.bytes.size() + 128);
    ExpectCorrupt("empty-tensor-name.gguf", w.bytes, {"tensor info 0 name", "empty"});
  }
}

TEST(GgufHandWritten, EmptyAndTinyFiles) {
  ExpectCorrupt("empty.gguf", {}, {"truncated", "header magic", "byte offset 0"});
  ExpectCorrupt("three-bytes.gguf", {'G', 'G', 'U'}, {"truncated", "header magic"});
  ByteWriter w;
  w.Header(3, 0, 0);
  auto f = OpenOk(WriteScratch("header-only.gguf", w.bytes));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->metadata().size(), 0u);
  EXPECT_EQ(f->tensors().size(), 0u);
}

// ---- corrupted copies of the shared model ----

class GgufCorruptModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::TestDataDir()) GTEST_SKIP() << "shared test data not found";
    good_ = F32Model();
    ASSERT_GT(good_.size(), 100000u);
    auto f = OpenOk(ModelPath("f32"));
    ASSERT_NE(f, nullptr);
    data_offset_ = f->data_offset();
  }
  Bytes good_;
  size_t data_offset_ = 0;
};

TEST_F(GgufCorruptModel, Truncated) {
  auto cut = [&](size_t n) { return Bytes(good_.begin(), good_.begin() + long(n)); };
  ExpectCorrupt("cut-header.gguf", cut(10), {"truncated", "header tensor count", "byte offset 8"});
  // Too short for the header's counts: that is reported before anything is allocated.
  ExpectCorrupt("cut-first-key.gguf", cut(24 + 8 + 5),
                {"header metadata count", "24 metadata entries need at least", "file is truncated"});
  const size_t tokens = After(good_, "tokenizer.ggml.tokens");
  ExpectCorrupt("cut-array.gguf", cut(tokens + 2000),
                {"metadata key 'tokenizer.ggml.tokens' array length", "file is truncated"});
  const size_t tmpl = After(good_, "tokenizer.chat_template");
  ExpectCorrupt("cut-string.gguf", cut(tmpl + 4 + 8 + 10),
                {"metadata key 'tokenizer.chat_template'", "string length", "at byte offset " + std::to_string(tmpl + 4),
                 "truncated"});
  const size_t bos = After(good_, "tokenizer.ggml.bos_token_id");
  ExpectCorrupt("cut-value.gguf", cut(bos + 4 + 2),
                {"file truncated", "metadata key 'tokenizer.ggml.bos_token_id' value",
                 "at byte offset " + std::to_string(bos + 4)});
  const InfoPos out = FindInfo(good_, "output.weight");
  ExpectCorrupt("cut-tensor-info.gguf", cut(out.type + 2), {"truncated", "tensor 'output.weight' type"});
  ExpectCorrupt("cut-tensor-name.gguf", cut(out.n_dims - 3), {"truncated", "tensor info 38 name"});
  ExpectCorrupt("cut-data-start.gguf", cut(data_offset_ + 10), {"tensor 'token_embd.weight'", "past the end"});
  ExpectCorrupt("cut-data-end.gguf", cut(good_.size() - 1),
                {"tensor 'output.weight': data [offset", "extends past the end of the file (" +
                                                             std::to_string(good_.size() - 1) + " bytes)"});
}

TEST_F(GgufCorruptModel, Header) {
  Bytes b = good_;
  b[3] = 'X';
  ExpectCorrupt("bad-magic.gguf", b, {"magic", "GGUX", "expected 'GGUF'"});
  for (uint32_t v : {1u, 99u, 0u, 0x03000000u}) {
    b = good_;
    Poke<uint32_t>(b, 4, v);
    ExpectOpenFails("version-" + std::to_string(v) + ".gguf", b, Status::Code::kUnsupported,
                    {"version", "expected 2 or 3, found " + std::to_string(v)});
  }
  b = good_;
  Poke<uint64_t>(b, 8, uint64_t(1) << 60);
  ExpectCorrupt("huge-tensor-count.gguf", b, {"header tensor count", "1152921504606846976 tensor infos need"});
  b = good_;
  Poke<uint64_t>(b, 16, uint64_t(1) << 60);
  ExpectCorrupt("huge-kv-count.gguf", b, {"header metadata count", "1152921504606846976 metadata entries"});
  b = good_;
  Poke<uint64_t>(b, 8, 40);  // one more tensor info than the file has: reads into the data section
  EXPECT_FALSE(GgufFile::Open(WriteScratch("tensor-count-plus-one.gguf", b)).ok());
}

TEST_F(GgufCorruptModel, Strings) {
  Bytes b = good_;
  Poke<uint64_t>(b, 24, uint64_t(1) << 62);
  ExpectCorrupt("huge-key-length.gguf", b, {"metadata entry 0 key", "string length 4611686018427387904"});
  b = good_;
  const size_t arch = After(good_, "general.architecture");
  Poke<uint64_t>(b, arch + 4, ~uint64_t(0));
  ExpectCorrupt("huge-value-length.gguf", b, {"metadata key 'general.architecture'", "string length"});
  b = good_;
  const size_t tokens = After(good_, "tokenizer.ggml.tokens");
  Poke<uint64_t>(b, tokens + 8, uint64_t(1) << 62);
  ExpectCorrupt("huge-array-count.gguf", b, {"metadata key 'tokenizer.ggml.tokens' array length", "4611686018427387904 elements"});
  b = good_;
  Poke<uint32_t>(b, After(good_, "general.name"), 42);
  ExpectCorrupt("bad-value-type.gguf", b, {"metadata key 'general.name' value type", "unknown value type 42"});
}

TEST_F(GgufCorruptModel, TensorOffsets) {
  const InfoPos out = FindInfo(good_, "output.weight");
  Bytes b = good_;
  Poke<uint64_t>(b, out.offset, (good_.size() - data_offset_ + 31) / 32 * 32);
  ExpectCorrupt("offset-past-end.gguf", b, {"tensor 'output.weight': data [offset", "past the end"});
  b = good_;
  Poke<uint64_t>(b, out.offset, ~uint64_t(31));  // aligned, and data_offset + offset overflows
  ExpectCorrupt("offset-overflow.gguf", b, {"tensor 'output.weight'", "past the end"});
  b = good_;
  Poke<uint64_t>(b, out.offset, Peek<uint64_t>(good_, out.offset) + 4);
  ExpectCorrupt("offset-unaligned.gguf", b, {"tensor 'output.weight' offset", "not a multiple of the alignment 32"});
}

TEST_F(GgufCorruptModel, TensorTypes) {
  const InfoPos embd = FindInfo(good_, "token_embd.weight");
  Bytes b = good_;
  Poke<uint32_t>(b, embd.type, 99);
  ExpectCorrupt("type-99.gguf", b, {"tensor 'token_embd.weight' type", "unknown ggml type id 99"});
  b = good_;
  Poke<uint32_t>(b, embd.type, 8);  // q8_0 needs ne[0] % 32 == 0; make ne[0] 100
  Poke<uint64_t>(b, embd.dims, 100);
  ExpectCorrupt("type-block.gguf", b, {"tensor 'token_embd.weight' dim 0", "q8_0 block size 32"});

  // q8_k is a real ggml type: Open() accepts it (ffn_down's ne[0] = 512 is a multiple of 256); TensorView refuses.
  b = good_;
  Poke<uint32_t>(b, FindInfo(good_, "blk.0.ffn_down.weight").type, 15);
  const std::string path = WriteScratch("type-q8k.gguf", b);
  auto f = OpenOk(path);
  ASSERT_NE(f, nullptr);
  const GgufTensorInfo* t = f->FindTensor("blk.0.ffn_down.weight");
  EXPECT_EQ(t->nbytes, 2u * 292u * 192u);
  auto view = f->TensorView(*t);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), Status::Code::kUnsupported);
  for (const char* part : {"type-q8k.gguf", "tensor 'blk.0.ffn_down.weight'", "q8_k", "supported: f32"})
    EXPECT_NE(view.status().message().find(part), std::string::npos) << part << " in " << view.status().message();
  EXPECT_TRUE(f->TensorView(*f->FindTensor("blk.0.ffn_up.weight")).ok());
}

// GGUF tensor types 10 to 14 are the K-quants Strata computes: TensorView gives a Q2_K .. Q6_K tensor with ggml's
// row size (ffn_down's ne[0] = 512 is two 256-element super-blocks; the f32 bytes are simply reinterpreted).
TEST_F(GgufCorruptModel, KQuantTensorTypes) {
  const struct {
    uint32_t id;
    DType dtype;
    uint64_t block_bytes;
  } cases[] = {{12, DType::kQ4_K, 144}, {14, DType::kQ6_K, 210},
               {10, DType::kQ2_K, 84},  {11, DType::kQ3_K, 110}, {13, DType::kQ5_K, 176}};
  for (const auto& c : cases) {
    Bytes b = good_;
    Poke<uint32_t>(b, FindInfo(good_, "blk.0.ffn_down.weight").type, c.id);
    auto f = OpenOk(WriteScratch(std::string("type-") + Name(c.dtype) + ".gguf", b));
    ASSERT_NE(f, nullptr);
    const GgufTensorInfo* t = f->FindTensor("blk.0.ffn_down.weight");
    EXPECT_EQ(t->nbytes, 2u * c.block_bytes * 192u);
    auto view = f->TensorView(*t);
    ASSERT_TRUE(view.ok()) << view.status().message();
    EXPECT_EQ(view->dtype(), c.dtype);
    EXPECT_EQ(view->dim(1), 512);
    EXPECT_EQ(view->row_bytes(), static_cast<int64_t>(2 * c.block_bytes));
  }
}

TEST_F(GgufCorruptModel, TensorShapes) {
  const InfoPos embd = FindInfo(good_, "token_embd.weight");
  for (uint32_t n : {0u, 7u}) {
    Bytes b = good_;
    Poke<uint32_t>(b, embd.n_dims, n);
    ExpectCorrupt("n-dims-" + std::to_string(n) + ".gguf", b,
                  {"tensor 'token_embd.weight' n_dims", "is " + std::to_string(n) + ", expected 1..4"});
  }
  Bytes b = good_;
  Poke<uint64_t>(b, embd.dims + 8, 0);
  ExpectCorrupt("dim-zero.gguf", b, {"tensor 'token_embd.weight' dim 1", "is 0"});
  b = good_;
  Poke<uint64_t>(b, embd.dims + 8, ~uint64_t(0));
  ExpectCorrupt("dim-negative.gguf", b, {"tensor 'token_embd.weight' dim 1", "is 18446744073709551615"});
  b = good_;
  Poke<uint64_t>(b, embd.dims + 8, uint64_t(1) << 62);  // 192 * 2^62 overflows int64
  ExpectCorrupt("dim-overflow.gguf", b, {"tensor 'token_embd.weight' shape", "overflows"});
  b = good_;
  Poke<uint32_t>(b, embd.type, 28);  // f64: 2^60 x 4 elements fit in int64, their 2^65 bytes don't fit in uint64
  Poke<uint64_t>(b, embd.dims, uint64_t(1) << 60);
  Poke<uint64_t>(b, embd.dims + 8, 4);
  ExpectCorrupt("bytes-overflow.gguf", b, {"tensor 'token_embd.weight' shape", "f64 needs more than 2^64 bytes"});
  b = good_;
  Poke<uint64_t>(b, embd.dims + 8, uint64_t(1) << 40);  // representable, but far larger than the file
  ExpectCorrupt("dim-too-big.gguf", b, {"tensor 'token_embd.weight': data", "past the end"});
}

}  // namespace
}  // namespace strata
