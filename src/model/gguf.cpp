#include "model/gguf.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "core/dtype.h"

namespace strata {

static_assert(std::endian::native == std::endian::little, "the GGUF reader maps little-endian fields directly");

namespace {

constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;   // GGML_MAX_DIMS
constexpr uint32_t kMaxGgufType = static_cast<uint32_t>(GgufType::kF64);
// Smallest encodings, used to reject counts the rest of the file could never hold before anything is allocated.
// They assume nothing a later check rejects (an empty key or name, zero dims), so that check reports it instead.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;             // key length, value type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
constexpr size_t kMaxShownStringBytes = 96;

// Bytes one value of `t` takes at least: exact for scalars, the length prefix for strings, the header for arrays.
uint64_t MinValueBytes(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: case GgufType::kString: return 8;
    case GgufType::kArray: return 4 + 8;
  }
  return 1;
}

bool IsInteger(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16: case GgufType::kU32:
    case GgufType::kI32: case GgufType::kU64: case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

Status WrongType(GgufType found, const char* expected) {
  return Status::Corrupt(std::string("has type ") + GgufTypeName(found) + ", expected " + expected);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  size_t n = s.size();
  if (n > kMaxShownStringBytes) {
    n = kMaxShownStringBytes;
    while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;  // don't split a UTF-8 sequence
  }
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

template <class F>
std::string ShortestFloat(F x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, r.ptr);
}

std::string SupportedTypeList() {
  std::string out;
  for (uint32_t id = 0; id < 64; ++id) {
    if (!IsSupportedGgmlType(id)) continue;
    if (!out.empty()) out += ", ";
    out += GgmlTypeName(id);
  }
  return out;
}

std::string DimsString(const std::vector<int64_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

}  // namespace

const char* GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kU8: return "u8";
    case GgufType::kI8: return "i8";
    case GgufType::kU16: return "u16";
    case GgufType::kI16: return "i16";
    case GgufType::kU32: return "u32";
    case GgufType::kI32: return "i32";
    case GgufType::kF32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kU64: return "u64";
    case GgufType::kI64: return "i64";
    case GgufType::kF64: return "f64";
  }
  return "unknown";
}

// ---- GgufValue ----

Result<uint64_t> GgufValue::AsUint() const {
  if (!IsInteger(type)) return WrongType(type, "an integer");
  if (const auto* u = std::get_if<uint64_t>(&v)) return *u;
  const int64_t i = std::get<int64_t>(v);
  if (i < 0) return Status::Corrupt("is " + std::to_string(i) + ", expected a non-negative integer");
  return static_cast<uint64_t>(i);
}

Result<int64_t> GgufValue::AsInt() const {
  if (!IsInteger(type)) return WrongType(type, "an integer");
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  const uint64_t u = std::get<uint64_t>(v);
  if (u > static_cast<uint64_t>(INT64_MAX))
    return Status::Corrupt("is " + std::to_string(u) + ", which does not fit in a signed 64-bit integer");
  return static_cast<int64_t>(u);
}

Result<double> GgufValue::AsFloat() const {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return WrongType(type, "a number");
}

Result<bool> GgufValue::AsBool() const {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return WrongType(type, "bool");
}

Result<std::string> GgufValue::AsString() const {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return WrongType(type, "string");
}

const GgufArray* GgufValue::AsArray() const { return std::get_if<GgufArray>(&v); }

std::string GgufValue::ToString(size_t max_items) const {
  if (const auto* u = std::get_if<uint64_t>(&v)) return std::to_string(*u);
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v))
    return type == GgufType::kF32 ? ShortestFloat(static_cast<float>(*d)) : ShortestFloat(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v)) return Quote(*s);
  const GgufArray& a = std::get<GgufArray>(v);
  std::string out = std::string(GgufTypeName(a.elem_type)) + "[" + std::to_string(a.items.size()) + "] [";
  const size_t shown = std::min(max_items, a.items.size());
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + a.items[i].ToString(max_items);
  if (shown < a.items.size()) out += shown ? ", ..." : "...";
  return out + "]";
}

// ---- Parser ----

// Walks the mapped bytes once, validating each field before anything depends on it. `context_` names the
// entry being read ("metadata key 'x'", "tensor 'y'") and `items_` the array indices below it, so every error
// can say exactly which field was bad.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& f) : f_(f), data_(f.file_->data()), size_(f.file_->size()) {}

  Status Parse() {
    uint64_t n_tensors = 0, n_kv = 0;
    STRATA_RETURN_IF_ERROR(ReadHeader(&n_tensors, &n_kv));
    STRATA_RETURN_IF_ERROR(ReadMetadata(n_kv));
    STRATA_RETURN_IF_ERROR(ReadAlignment());
    STRATA_RETURN_IF_ERROR(ReadTensorInfos(n_tensors));
    // pos_ <= size_ and alignment <= 2^31, so this cannot overflow.
    f_.data_offset_ = (pos_ + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    for (const auto& t : f_.tensors_) STRATA_RETURN_IF_ERROR(CheckTensorData(t));
    return Status::Ok();
  }

 private:
  uint64_t remaining() const { return size_ - pos_; }

  std::string Field(std::string_view what) const {
    std::string out = context_;
    for (uint64_t i : items_) out += "[" + std::to_string(i) + "]";
    if (!what.empty()) out += (out.empty() ? "" : " ") + std::string(what);
    return out;
  }

  Status Fail(std::string_view what, const std::string& detail) const {
    return Status::Corrupt(f_.path_ + ": " + Field(what) + ": " + detail);
  }

  Status Need(uint64_t n, std::string_view what) const {
    if (n <= remaining()) return Status::Ok();
    return Status::Corrupt(f_.path_ + ": file truncated: " + Field(what) + " at byte offset " + std::to_string(pos_) +
                           " needs " + std::to_string(n) + " bytes, but only " + std::to_string(remaining()) +
                           " remain (file size " + std::to_string(size_) + ")");
  }

  template <class T>
  Result<T> Read(std::string_view what) {
    STRATA_RETURN_IF_ERROR(Need(sizeof(T), what));
    T x;
    std::memcpy(&x, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }

  Result<std::string> ReadString(std::string_view what) {
    if (remaining() < 8) return Need(8, std::string(what) + (what.empty() ? "string length" : " length"));
    STRATA_ASSIGN_OR_RETURN(const uint64_t len, Read<uint64_t>("string length"));
    if (len > remaining())
      return Fail(what, "string length " + std::to_string(len) + " at byte offset " + std::to_string(pos_ - 8) +
                            " exceeds the " + std::to_string(remaining()) +
                            " bytes left in the file (corrupt length or truncated file)");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  // Fails unless `count` items of at least `min_bytes` each can fit in the rest of the file.
  Status CheckCount(uint64_t count, uint64_t min_bytes, std::string_view what, const char* items) const {
    if (count <= remaining() / min_bytes) return Status::Ok();
    return Fail(what, std::to_string(count) + " " + items + " need at least " +
                          (count > UINT64_MAX / min_bytes ? "2^64" : std::to_string(count * min_bytes)) +
                          " bytes, but only " + std::to_string(remaining()) + " remain after byte offset " +
                          std::to_string(pos_) + " (file size " + std::to_string(size_) +
                          "): the count is corrupt or the file is truncated");
  }

  Status ReadHeader(uint64_t* n_tensors, uint64_t* n_kv) {
    context_ = "header";
    STRATA_ASSIGN_OR_RETURN(const uint32_t magic, Read<uint32_t>("magic"));
    if (std::memcmp(&magic, "GGUF", 4) != 0) return BadMagic(magic);
    STRATA_ASSIGN_OR_RETURN(f_.version_, Read<uint32_t>("version"));
    STRATA_RETURN_IF_ERROR(CheckVersion(f_.version_));
    STRATA_ASSIGN_OR_RETURN(*n_tensors, Read<uint64_t>("tensor count"));
    STRATA_ASSIGN_OR_RETURN(*n_kv, Read<uint64_t>("metadata count"));
    // The tensor count is checked when the tensor infos start, against the bytes really left for them.
    return CheckCount(*n_kv, kMinKvBytes, "metadata count", "metadata entries");
  }

  Status BadMagic(uint32_t magic) const {
    uint8_t b[4];
    std::memcpy(b, &magic, 4);
    std::string shown, hex;
    for (uint8_t c : b) {
      shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
      static constexpr char kHex[] = "0123456789abcdef";
      hex += std::string(hex.empty() ? "" : " ") + kHex[c >> 4] + kHex[c & 15];
    }
    return Status::Corrupt(f_.path_ + ": not a GGUF file: magic is '" + shown + "' (bytes " + hex +
                           "), expected 'GGUF'");
  }

  Status CheckVersion(uint32_t v) const {
    if (v == 2 || v == 3) return Status::Ok();
    std::string hint;
    if (v == 1) hint = "; GGUF v1 is obsolete, re-convert the model with a current llama.cpp";
    if (v != 0 && (v & 0xFFFF) == 0) hint = "; the file may be big-endian, which is not supported";
    return Status::Unsupported(f_.path_ + ": header version: unsupported GGUF version (expected 2 or 3, found " +
                               std::to_string(v) + ")" + hint);
  }

  Status ReadMetadata(uint64_t n_kv) {
    f_.metadata_.reserve(n_kv);
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < n_kv; ++i) {
      context_ = "metadata entry " + std::to_string(i);
      STRATA_ASSIGN_OR_RETURN(std::string key, ReadString("key"));
      if (key.empty()) return Fail("key", "is empty");
      context_ = "metadata key '" + key + "'";
      if (!seen.insert(key).second) return Fail("", "duplicate key (it appears earlier in the file)");
      STRATA_ASSIGN_OR_RETURN(const GgufType type, ReadType("value type"));
      STRATA_ASSIGN_OR_RETURN(GgufValue value, ReadValue(type, 0));
      f_.metadata_.emplace_back(std::move(key), std::move(value));
    }
    return Status::Ok();
  }

  Result<GgufType> ReadType(std::string_view what) {
    STRATA_ASSIGN_OR_RETURN(const uint32_t t, Read<uint32_t>(what));
    if (t > kMaxGgufType)
      return Fail(what, "unknown value type " + std::to_string(t) + " (expected 0.." + std::to_string(kMaxGgufType) +
                            ")");
    return static_cast<GgufType>(t);
  }

  Result<GgufValue> ReadValue(GgufType type, int depth) {
    switch (type) {
      case GgufType::kU8: return ReadScalar<uint8_t, uint64_t>(type);
      case GgufType::kU16: return ReadScalar<uint16_t, uint64_t>(type);
      case GgufType::kU32: return ReadScalar<uint32_t, uint64_t>(type);
      case GgufType::kU64: return ReadScalar<uint64_t, uint64_t>(type);
      case GgufType::kI8: return ReadScalar<int8_t, int64_t>(type);
      case GgufType::kI16: return ReadScalar<int16_t, int64_t>(type);
      case GgufType::kI32: return ReadScalar<int32_t, int64_t>(type);
      case GgufType::kI64: return ReadScalar<int64_t, int64_t>(type);
      case GgufType::kF32: return ReadScalar<float, double>(type);
      case GgufType::kF64: return ReadScalar<double, double>(type);
      case GgufType::kBool: return ReadScalar<uint8_t, bool>(type);  // any non-zero byte is true, as in ggml
      case GgufType::kString: {
        GgufValue out{type, {}};
        STRATA_ASSIGN_OR_RETURN(out.v, ReadString(""));
        return out;
      }
      case GgufType::kArray: {
        GgufValue out{type, {}};
        STRATA_ASSIGN_OR_RETURN(out.v, ReadArray(depth + 1));
        return out;
      }
    }
    return Fail("value type", "unknown value type");
  }

  template <class T, class Stored>
  Result<GgufValue> ReadScalar(GgufType type) {
    STRATA_ASSIGN_OR_RETURN(const T x, Read<T>("value"));
    return GgufValue{type, static_cast<Stored>(x)};
  }

  Result<GgufArray> ReadArray(int depth) {
    if (depth > kGgufMaxArrayDepth)
      return Fail("", "arrays nested more than " + std::to_string(kGgufMaxArrayDepth) + " levels deep");
    GgufArray a;
    STRATA_ASSIGN_OR_RETURN(a.elem_type, ReadType("array element type"));
    STRATA_ASSIGN_OR_RETURN(const uint64_t n, Read<uint64_t>("array length"));
    const std::string what = std::string("array length (") + GgufTypeName(a.elem_type) + " elements)";
    STRATA_RETURN_IF_ERROR(CheckCount(n, MinValueBytes(a.elem_type), what, "elements"));
    a.items.reserve(n);
    items_.push_back(0);
    for (uint64_t i = 0; i < n; ++i) {
      items_.back() = i;
      STRATA_ASSIGN_OR_RETURN(GgufValue item, ReadValue(a.elem_type, depth));
      a.items.push_back(std::move(item));
    }
    items_.pop_back();
    return a;
  }

  Status ReadAlignment() {
    context_ = "metadata key 'general.alignment'";
    const GgufValue* v = f_.Find("general.alignment");
    if (v == nullptr) return Status::Ok();
    if (v->type != GgufType::kU32) return Fail("", std::string("has type ") + GgufTypeName(v->type) + ", expected u32");
    const uint64_t a = std::get<uint64_t>(v->v);
    if (a == 0 || (a & (a - 1)) != 0) return Fail("", "is " + std::to_string(a) + ", expected a non-zero power of two");
    f_.alignment_ = a;
    return Status::Ok();
  }

  Status ReadTensorInfos(uint64_t n) {
    context_ = "header";
    STRATA_RETURN_IF_ERROR(CheckCount(n, kMinTensorInfoBytes, "tensor count", "tensor infos"));
    f_.tensors_.reserve(n);
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < n; ++i) {
      context_ = "tensor info " + std::to_string(i);
      STRATA_ASSIGN_OR_RETURN(GgufTensorInfo t, ReadTensorInfo());
      if (!seen.insert(t.name).second) return Fail("", "duplicate tensor name (it appears earlier in the file)");
      f_.tensors_.push_back(std::move(t));
    }
    return Status::Ok();
  }

  Result<GgufTensorInfo> ReadTensorInfo() {
    GgufTensorInfo t;
    STRATA_ASSIGN_OR_RETURN(t.name, ReadString("name"));
    if (t.name.empty()) return Fail("name", "is empty");
    context_ = "tensor '" + t.name + "'";
    STRATA_RETURN_IF_ERROR(ReadShape(t));
    STRATA_ASSIGN_OR_RETURN(t.ggml_type, Read<uint32_t>("type"));
    STRATA_RETURN_IF_ERROR(CheckTypeAndSize(t));
    STRATA_ASSIGN_OR_RETURN(t.offset, Read<uint64_t>("offset"));
    if (t.offset % f_.alignment_ != 0)
      return Fail("offset", std::to_string(t.offset) + " is not a multiple of the alignment " +
                                std::to_string(f_.alignment_));
    return t;
  }

  Status ReadShape(GgufTensorInfo& t) {
    STRATA_ASSIGN_OR_RETURN(const uint32_t n_dims, Read<uint32_t>("n_dims"));
    if (n_dims < 1 || n_dims > kMaxDims)
      return Fail("n_dims", "is " + std::to_string(n_dims) + ", expected 1.." + std::to_string(kMaxDims));
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const std::string what = "dim " + std::to_string(d);
      STRATA_ASSIGN_OR_RETURN(const uint64_t ne, Read<uint64_t>(what));
      if (ne < 1 || ne > static_cast<uint64_t>(INT64_MAX))
        return Fail(what, "is " + std::to_string(ne) + ", expected 1.." + std::to_string(INT64_MAX));
      t.dims.push_back(static_cast<int64_t>(ne));
      if (__builtin_mul_overflow(numel, static_cast<int64_t>(ne), &numel))
        return Fail("shape", "element count of dims " + DimsString(t.dims) + " overflows a 64-bit integer");
    }
    return Status::Ok();
  }

  // Needs the dims: the type fixes the block size, which must divide ne[0], and the byte size.
  Status CheckTypeAndSize(GgufTensorInfo& t) const {
    int64_t blk = 0, blk_bytes = 0;
    if (!GgmlTypeBlock(t.ggml_type, &blk, &blk_bytes))
      return Fail("type", "unknown ggml type id " + std::to_string(t.ggml_type));
    if (t.dims[0] % blk != 0)
      return Fail("dim 0", "is " + std::to_string(t.dims[0]) + ", not a multiple of the " +
                               GgmlTypeName(t.ggml_type) + " block size " + std::to_string(blk));
    uint64_t blocks = static_cast<uint64_t>(t.dims[0] / blk);
    for (size_t d = 1; d < t.dims.size(); ++d) blocks *= static_cast<uint64_t>(t.dims[d]);  // <= numel: no overflow
    if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(blk_bytes), &t.nbytes))
      return Fail("shape", DimsString(t.dims) + " of " + GgmlTypeName(t.ggml_type) +
                               " needs more than 2^64 bytes");
    return Status::Ok();
  }

  Status CheckTensorData(const GgufTensorInfo& t) const {
    uint64_t start = 0;
    const bool overflow = __builtin_add_overflow(f_.data_offset_, t.offset, &start);
    if (!overflow && start <= size_ && t.nbytes <= size_ - start) return Status::Ok();
    return Status::Corrupt(f_.path_ + ": tensor '" + t.name + "': data [offset " +
                           (overflow ? std::to_string(f_.data_offset_) + " + " + std::to_string(t.offset)
                                     : std::to_string(start)) +
                           ", size " + std::to_string(t.nbytes) + "] extends past the end of the file (" +
                           std::to_string(size_) + " bytes)");
  }

  GgufFile& f_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string context_;
  std::vector<uint64_t> items_;
};

// ---- GgufFile ----

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path, MappedFile::Mode mode) {
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path, mode));
  return Parse(std::move(file));
}

Result<std::unique_ptr<GgufFile>> GgufFile::FromBytes(const std::string& name, std::string_view bytes) {
  return Parse(MappedFile::FromBytes(name, bytes));
}

Result<std::unique_ptr<GgufFile>> GgufFile::Parse(std::shared_ptr<MappedFile> file) {
  GgufFile f;  // built here because the constructor is private; make_unique only needs the public move
  f.path_ = file->path();
  f.file_ = std::move(file);
  STRATA_RETURN_IF_ERROR(GgufParser(f).Parse());
  return std::make_unique<GgufFile>(std::move(f));
}

uint64_t GgufFile::file_size() const { return file_ ? file_->size() : 0; }

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const auto& [k, v] : metadata_)
    if (k == key) return &v;
  return nullptr;
}

namespace {

template <class T, class Get>
Result<T> GetTyped(const GgufFile& f, std::string_view key, Get get) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return Status::NotFound(f.path() + ": metadata key '" + std::string(key) + "' is missing");
  Result<T> r = get(*v);
  if (!r.ok())
    return Status(r.status().code(), f.path() + ": metadata key '" + std::string(key) + "' " + r.status().message());
  return r;
}

}  // namespace

Result<std::string> GgufFile::GetString(std::string_view key) const {
  return GetTyped<std::string>(*this, key, [](const GgufValue& v) { return v.AsString(); });
}
Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  return GetTyped<uint64_t>(*this, key, [](const GgufValue& v) { return v.AsUint(); });
}
Result<double> GgufFile::GetFloat(std::string_view key) const {
  return GetTyped<double>(*this, key, [](const GgufValue& v) { return v.AsFloat(); });
}
Result<bool> GgufFile::GetBool(std::string_view key) const {
  return GetTyped<bool>(*this, key, [](const GgufValue& v) { return v.AsBool(); });
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

Result<Tensor> GgufFile::TensorView(const GgufTensorInfo& info) const {
  const std::string where = path_ + ": tensor '" + info.name + "'";
  if (!IsSupportedGgmlType(info.ggml_type)) {
    const char* name = GgmlTypeName(info.ggml_type);
    return Status::Unsupported(where + " has type " + (*name ? name : "unknown") + " (ggml type " +
                               std::to_string(info.ggml_type) + "), which Strata cannot compute (supported: " +
                               SupportedTypeList() + ")");
  }
  // `info` may not come from this file; re-check its bounds rather than trust it.
  uint64_t start = 0;
  if (__builtin_add_overflow(data_offset_, info.offset, &start) || start > file_size() ||
      info.nbytes > file_size() - start)
    return Status::InvalidArgument(where + ": data range is outside " + path_ + " (is the info from another file?)");
  const auto dtype = static_cast<DType>(info.ggml_type);
  // Kernels read elements (and a block's fp16 scale) through typed pointers; an alignment below that would be UB.
  const uint64_t natural = dtype == DType::kF32 || dtype == DType::kI32 ? 4 : 2;
  if (start % natural != 0)
    return Status::Unsupported(where + ": data at file offset " + std::to_string(start) + " is not aligned to " +
                               std::to_string(natural) + " bytes (general.alignment " + std::to_string(alignment_) +
                               ")");
  return Tensor::View(dtype, info.Shape(), file_->data() + start, file_);
}

}  // namespace strata
