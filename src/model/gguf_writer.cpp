#include "model/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace strata {

uint32_t LlamaFileType(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 7;
    case DType::kQ4_K: return 15;  // Q4_K_M
    case DType::kQ6_K: return 18;
    case DType::kBF16: return 32;
    default: return 1024;  // LLAMA_FTYPE_GUESSED: llama.cpp works the type out from the tensors
  }
}

static_assert(std::endian::native == std::endian::little, "the GGUF writer writes little-endian fields directly");

namespace {

constexpr uint32_t kGgufVersion = 3;

GgufValue Scalar(GgufType type, uint64_t v) { return GgufValue{type, v}; }

}  // namespace

GgufWriter::~GgufWriter() {
  if (file_) std::fclose(file_);
}

void GgufWriter::AddKv(std::string key, GgufValue value) {
  if (key == "general.alignment") {
    if (const auto* a = std::get_if<uint64_t>(&value.v)) alignment_ = *a;
  }
  kvs_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::AddU32(std::string key, uint32_t v) { AddKv(std::move(key), Scalar(GgufType::kU32, v)); }
void GgufWriter::AddF32(std::string key, float v) {
  AddKv(std::move(key), GgufValue{GgufType::kF32, static_cast<double>(v)});
}
void GgufWriter::AddBool(std::string key, bool v) { AddKv(std::move(key), GgufValue{GgufType::kBool, v}); }
void GgufWriter::AddString(std::string key, std::string v) {
  AddKv(std::move(key), GgufValue{GgufType::kString, std::move(v)});
}

Status GgufWriter::AddTensorInfo(std::string name, DType dtype, std::vector<int64_t> shape) {
  if (file_) return Status::Internal("GGUF writer: tensor '" + name + "' added after the header was written");
  if (shape.empty() || shape.size() > 4)
    return Status::InvalidArgument("GGUF writer: tensor '" + name + "' has rank " + std::to_string(shape.size()) +
                                   ", expected 1 to 4");
  uint64_t rows = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] <= 0) return Status::InvalidArgument("GGUF writer: tensor '" + name + "' has a dimension <= 0");
    if (i + 1 < shape.size()) rows *= static_cast<uint64_t>(shape[i]);
  }
  const int64_t inner = shape.back();
  const DTypeTraits& tr = Traits(dtype);
  if (inner % tr.block_elems != 0)
    return Status::InvalidArgument("GGUF writer: tensor '" + name + "' has " + std::to_string(inner) +
                                   " elements per row, not a multiple of the " + tr.name + " block (" +
                                   std::to_string(tr.block_elems) + ")");
  GgufTensorInfo info;
  info.name = std::move(name);
  info.dims.assign(shape.rbegin(), shape.rend());
  info.ggml_type = static_cast<uint32_t>(dtype);
  info.nbytes = rows * static_cast<uint64_t>(RowBytes(dtype, inner));
  data_bytes_ += info.nbytes;
  tensors_.push_back(std::move(info));
  return Status::Ok();
}

Status GgufWriter::Fail(const std::string& what) {
  return Status::IoError(path_ + ": " + what + ": " + std::strerror(errno));
}

Status GgufWriter::Write(const void* data, size_t n) {
  if (n && std::fwrite(data, 1, n, file_) != n) return Fail("write failed");
  pos_ += n;
  return Status::Ok();
}

Status GgufWriter::Pad() {
  static constexpr uint8_t kZeros[256] = {};
  while (pos_ % alignment_) {
    const size_t n = std::min<uint64_t>(alignment_ - pos_ % alignment_, sizeof(kZeros));
    STRATA_RETURN_IF_ERROR(Write(kZeros, n));
  }
  return Status::Ok();
}

Status GgufWriter::WriteValue(const GgufValue& value, int depth) {
  auto put = [&](auto x) { return Write(&x, sizeof(x)); };
  auto as_uint = [&]() -> uint64_t {
    if (const auto* u = std::get_if<uint64_t>(&value.v)) return *u;
    if (const auto* i = std::get_if<int64_t>(&value.v)) return static_cast<uint64_t>(*i);
    if (const auto* b = std::get_if<bool>(&value.v)) return *b;
    return 0;
  };
  const bool numeric = std::holds_alternative<uint64_t>(value.v) || std::holds_alternative<int64_t>(value.v);
  switch (value.type) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16: case GgufType::kU32:
    case GgufType::kI32: case GgufType::kU64: case GgufType::kI64:
      if (!numeric) break;
      switch (value.type) {
        case GgufType::kU8: case GgufType::kI8: return put(static_cast<uint8_t>(as_uint()));
        case GgufType::kU16: case GgufType::kI16: return put(static_cast<uint16_t>(as_uint()));
        case GgufType::kU32: case GgufType::kI32: return put(static_cast<uint32_t>(as_uint()));
        default: return put(as_uint());
      }
    case GgufType::kF32:
    case GgufType::kF64: {
      const auto* d = std::get_if<double>(&value.v);
      if (!d) break;
      return value.type == GgufType::kF32 ? put(static_cast<float>(*d)) : put(*d);
    }
    case GgufType::kBool: {
      const auto* b = std::get_if<bool>(&value.v);
      if (!b) break;
      return put(static_cast<uint8_t>(*b));
    }
    case GgufType::kString: {
      const auto* s = std::get_if<std::string>(&value.v);
      if (!s) break;
      STRATA_RETURN_IF_ERROR(put(static_cast<uint64_t>(s->size())));
      return Write(s->data(), s->size());
    }
    case GgufType::kArray: {
      const auto* a = std::get_if<GgufArray>(&value.v);
      if (!a || depth >= kGgufMaxArrayDepth) break;
      STRATA_RETURN_IF_ERROR(put(static_cast<uint32_t>(a->elem_type)));
      STRATA_RETURN_IF_ERROR(put(static_cast<uint64_t>(a->items.size())));
      for (const GgufValue& item : a->items) {
        if (item.type != a->elem_type)
          return Status::InvalidArgument("array item of type " + std::string(GgufTypeName(item.type)) +
                                         " in an array of " + GgufTypeName(a->elem_type));
        STRATA_RETURN_IF_ERROR(WriteValue(item, depth + 1));
      }
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(std::string("value of type ") + GgufTypeName(value.type) +
                                 " holds no such value (or nests too deep)");
}

Status GgufWriter::WriteHeader(const std::string& path) {
  if (file_) return Status::Internal("GGUF writer: the header of " + path_ + " was already written");
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    return Status::InvalidArgument("GGUF writer: general.alignment " + std::to_string(alignment_) +
                                   " is not a power of two");
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return Fail("cannot create");
  buffer_.resize(1 << 20);
  std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
  uint64_t offset = 0;
  for (GgufTensorInfo& t : tensors_) {
    t.offset = offset;
    offset = (offset + t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  STRATA_RETURN_IF_ERROR(Write("GGUF", 4));
  STRATA_RETURN_IF_ERROR(Write(&kGgufVersion, 4));
  const uint64_t n_tensors = tensors_.size(), n_kv = kvs_.size();
  STRATA_RETURN_IF_ERROR(Write(&n_tensors, 8));
  STRATA_RETURN_IF_ERROR(Write(&n_kv, 8));
  auto put_string = [&](const std::string& s) {
    const uint64_t n = s.size();
    Status st = Write(&n, 8);
    return st.ok() ? Write(s.data(), s.size()) : st;
  };
  for (const auto& [key, value] : kvs_) {
    STRATA_RETURN_IF_ERROR(put_string(key));
    const auto type = static_cast<uint32_t>(value.type);
    STRATA_RETURN_IF_ERROR(Write(&type, 4));
    if (Status st = WriteValue(value, 0); !st.ok())
      return st.code() == Status::Code::kIoError ? st
                                                  : Status::InvalidArgument("GGUF writer: metadata key '" + key +
                                                                            "': " + st.message());
  }
  for (const GgufTensorInfo& t : tensors_) {
    STRATA_RETURN_IF_ERROR(put_string(t.name));
    const auto n_dims = static_cast<uint32_t>(t.dims.size());
    STRATA_RETURN_IF_ERROR(Write(&n_dims, 4));
    for (int64_t d : t.dims) STRATA_RETURN_IF_ERROR(Write(&d, 8));
    STRATA_RETURN_IF_ERROR(Write(&t.ggml_type, 4));
    STRATA_RETURN_IF_ERROR(Write(&t.offset, 8));
  }
  STRATA_RETURN_IF_ERROR(Pad());
  current_ = 0;
  current_written_ = 0;
  while (current_ < tensors_.size() && tensors_[current_].nbytes == 0) ++current_;
  return Status::Ok();
}

Status GgufWriter::WriteTensorData(const void* data, size_t n) {
  if (!file_) return Status::Internal("GGUF writer: tensor data written before the header");
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (current_ >= tensors_.size())
      return Status::InvalidArgument("GGUF writer: " + std::to_string(n) + " bytes of tensor data past the last tensor");
    const GgufTensorInfo& t = tensors_[current_];
    const size_t chunk = std::min<uint64_t>(n, t.nbytes - current_written_);
    STRATA_RETURN_IF_ERROR(Write(p, chunk));
    p += chunk;
    n -= chunk;
    current_written_ += chunk;
    written_bytes_ += chunk;
    if (current_written_ == t.nbytes) {
      STRATA_RETURN_IF_ERROR(Pad());
      ++current_;
      current_written_ = 0;
    }
  }
  return Status::Ok();
}

Status GgufWriter::Finish() {
  if (!file_) return Status::Internal("GGUF writer: Finish() before the header was written");
  if (current_ < tensors_.size()) {
    const GgufTensorInfo& t = tensors_[current_];
    return Status::InvalidArgument("GGUF writer: tensor '" + t.name + "' got " + std::to_string(current_written_) +
                                   " of its " + std::to_string(t.nbytes) + " bytes");
  }
  std::FILE* f = file_;
  file_ = nullptr;
  const bool flushed = std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!flushed || !closed) return Fail("write failed");
  return Status::Ok();
}

}  // namespace strata
