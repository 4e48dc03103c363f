// A whole file in read-only memory (RAII): read into anonymous memory backed by transparent huge pages, or
// memory-mapped when that fails (see mapped_file.cpp for why). Model weights are views into it, so it is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace strata {

class MappedFile {
 public:
  // How the bytes get into memory: read whole into huge pages (fast to stream every token), or mapped lazily so
  // that only the pages touched are ever read (a rank of a multi-process job that uses a slice of the file).
  enum class Mode { kReadAll, kLazy };
  static Result<std::shared_ptr<MappedFile>> Open(const std::string& path, Mode mode = Mode::kReadAll);
  // A heap copy of `bytes` under the name `path` (tests, fuzzing): sized exactly, so a sanitizer sees a read
  // one byte past the end, which page-granular mappings hide.
  static std::shared_ptr<MappedFile> FromBytes(const std::string& path, std::string_view bytes);
  struct Key {  // only Open() can construct one
   private:
    friend class MappedFile;
    Key() = default;
  };
  explicit MappedFile(Key) {}
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // A lazy mapping gives back the pages read so far (they are read again if touched): once the weights a
  // process needs are copied out (sliced, repacked), the file need not stay resident.
  void ReleasePages() const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool lazy_ = false;
  std::unique_ptr<uint8_t[]> owned_;  // FromBytes: the copy (data_ points into it; nothing is mapped)
};

}  // namespace strata
