// safetensors reader (Hugging Face's weight format): an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data area.
// A file is untrusted input: the header length is range-checked against the file, the JSON is parsed without
// exceptions, every dtype, shape (product overflow-checked), offset pair and size is validated, and tensors may
// not overlap; a bad file yields a Status naming the file and the tensor. Data stays in the mapping; tensors
// are views into it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace strata {

struct SafetensorsInfo {
  std::string name;
  std::string dtype;           // as the header spells it: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;  // outermost first, as numpy/torch
  uint64_t begin = 0, end = 0; // relative to the start of the data area
};

class SafetensorsFile {
 public:
  // The largest header accepted (the reference implementation's limit): a bigger length is a crafted file.
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  static Result<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // Parses bytes held in memory (copied); `name` stands for the path in messages.
  static Result<std::unique_ptr<SafetensorsFile>> FromBytes(const std::string& name, std::string_view bytes);

  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }
  uint64_t data_offset() const { return data_offset_; }
  const std::vector<SafetensorsInfo>& tensors() const { return tensors_; }  // in header order
  const SafetensorsInfo* Find(std::string_view name) const;
  // A view of the tensor's data in the mapping (keeps it alive); kUnsupported naming the dtype for anything
  // but F32, F16 and BF16.
  Result<Tensor> TensorView(const SafetensorsInfo& info) const;

 private:
  SafetensorsFile() = default;
  static Result<std::unique_ptr<SafetensorsFile>> Parse(std::shared_ptr<MappedFile> file);

  std::shared_ptr<MappedFile> file_;
  uint64_t data_offset_ = 0;
  std::vector<SafetensorsInfo> tensors_;
  std::map<std::string, size_t, std::less<>> by_name_;
};

// The safetensors files of a Hugging Face folder: `model.safetensors.index.json` (its weight_map says which
// shard holds each tensor) or a single `model.safetensors`.
class SafetensorsSet {
 public:
  static Result<SafetensorsSet> OpenFolder(const std::string& dir);

  // The file holding `name` and its info; null when no shard has it.
  struct Entry {
    const SafetensorsFile* file = nullptr;
    const SafetensorsInfo* info = nullptr;
  };
  Entry Find(std::string_view name) const;
  Result<Tensor> TensorView(std::string_view name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Every tensor name in the set, sorted.
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace strata
