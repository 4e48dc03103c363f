// GGUF (v3) writer: metadata and tensor infos are collected first, then WriteHeader() writes them and the
// tensor data is streamed after it in the order the infos were added, so a file far larger than memory can be
// written a row at a time. Conventions match the reader (model/gguf.h): dims innermost-first on disk,
// type ids are ggml's, every tensor starts at a multiple of the alignment (general.alignment, default 32).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "model/gguf.h"

namespace strata {

// llama.cpp's general.file_type (enum llama_ftype) for a model mostly of `t`.
uint32_t LlamaFileType(DType t);

class GgufWriter {
 public:
  GgufWriter() = default;
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Any metadata value the reader produces (arrays included), so keys can be copied from another file.
  // A u32/u64 "general.alignment" also sets the alignment of the data section.
  void AddKv(std::string key, GgufValue value);
  void AddU32(std::string key, uint32_t v);
  void AddF32(std::string key, float v);
  void AddBool(std::string key, bool v);
  void AddString(std::string key, std::string v);

  // A tensor of `shape` in Strata's order (outermost first); the innermost dimension must be a multiple of
  // the dtype's block. Must come before WriteHeader().
  Status AddTensorInfo(std::string name, DType dtype, std::vector<int64_t> shape);

  // Creates `path` and writes the header, metadata, tensor infos and the padding before the data section.
  Status WriteHeader(const std::string& path);
  // Appends `n` bytes of tensor data; a tensor may be written in any number of pieces, and padding follows
  // each tensor as soon as its last byte is written. Writing past the last tensor is an error.
  Status WriteTensorData(const void* data, size_t n);
  // Checks that every tensor was written in full, flushes and closes the file.
  Status Finish();

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // Bytes of tensor data (without padding) over all tensors, and how many have been written.
  uint64_t data_bytes() const { return data_bytes_; }
  uint64_t written_bytes() const { return written_bytes_; }

 private:
  Status Write(const void* data, size_t n);
  Status WriteValue(const GgufValue& value, int depth);
  Status Pad();
  Status Fail(const std::string& what);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;  // stdio buffer of file_
  uint64_t alignment_ = 32;
  uint64_t pos_ = 0;  // bytes written to the file so far
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  uint64_t data_bytes_ = 0, written_bytes_ = 0;
  size_t current_ = 0;           // tensor being written
  uint64_t current_written_ = 0;  // bytes of it written so far
};

}  // namespace strata
