// GGUF (v2, v3) reader. A model file is untrusted input: every count, length, type, rank, dimension and
// offset is validated before it is used, and a bad file yields a Status naming the file, the field, what was
// expected and what was found. Tensor data stays in the mmap; tensors are views into it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace strata {

// GGUF metadata value types (gguf_type).
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
const char* GgufTypeName(GgufType t);

// Arrays of arrays are legal; the reader refuses nesting deeper than this (unbounded nesting would recurse
// without limit) and the writer writes no deeper.
inline constexpr int kGgufMaxArrayDepth = 8;

struct GgufValue;
struct GgufArray {
  GgufType elem_type = GgufType::kU8;
  std::vector<GgufValue> items;  // arrays may nest
};

// One metadata value. Integers of every width are held as int64_t/uint64_t, floats as double.
struct GgufValue {
  GgufType type = GgufType::kU8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> v;

  // Typed access; a Status names the expected and the found type when they don't fit.
  Result<uint64_t> AsUint() const;  // any integer type >= 0
  Result<int64_t> AsInt() const;    // any integer type in range
  Result<double> AsFloat() const;   // f32/f64 (and integers)
  Result<bool> AsBool() const;
  Result<std::string> AsString() const;
  const GgufArray* AsArray() const;  // null when not an array
  // Short human-readable rendering; arrays show their first `max_items` items and their length.
  std::string ToString(size_t max_items = 8) const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // GGUF order: fastest-varying first (ne[0], ne[1], ...)
  uint32_t ggml_type = 0;
  uint64_t offset = 0;        // relative to the start of the data section
  uint64_t nbytes = 0;
  // Shape in Strata's order: outermost first (reversed dims).
  std::vector<int64_t> Shape() const { return {dims.rbegin(), dims.rend()}; }
};

class GgufFile {
 public:
  // Opens, maps and validates `path`.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path, MappedFile::Mode mode = MappedFile::Mode::kReadAll);
  const MappedFile& file() const { return *file_; }
  // Parses GGUF bytes held in memory (a copy is kept); `name` stands for the path in messages.
  static Result<std::unique_ptr<GgufFile>> FromBytes(const std::string& name, std::string_view bytes);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
  uint64_t file_size() const;

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;
  // Typed getters with errors that name the file and the key ("x.gguf: metadata key 'k' is missing").
  Result<std::string> GetString(std::string_view key) const;
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // A view of the tensor's data in the mmap (the view keeps the mapping alive). Open() accepts every type
  // ggml defines; this fails with kUnsupported, naming the tensor and its type, for one Strata can't compute.
  Result<Tensor> TensorView(const GgufTensorInfo& info) const;

 private:
  GgufFile() = default;
  static Result<std::unique_ptr<GgufFile>> Parse(std::shared_ptr<MappedFile> file);
  friend class GgufParser;

  std::string path_;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace strata
