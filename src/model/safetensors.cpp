#include "model/safetensors.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace strata {
namespace {

using Json = nlohmann::json;

struct DtypeInfo {
  const char* name;
  uint64_t bits;  // per element; sub-byte types exist (F4) and must fill whole bytes
};

// Every dtype the safetensors format defines, so a file in another one is validated (sizes, overlaps) before
// TensorView refuses it by name.
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 8},  {"U8", 8},        {"I8", 8},        {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8},
    {"I16", 16},  {"U16", 16},      {"F16", 16},      {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32},  {"F64", 64},      {"I64", 64},      {"U64", 64},    {"F4", 4},      {"F6_E2M3", 6},
    {"F6_E3M2", 6}, {"C64", 64},
};

const DtypeInfo* FindDtype(const std::string& name) {
  for (const DtypeInfo& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

uint64_t ReadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Status Bad(const std::string& path, const std::string& what) {
  return Status::Corrupt(path + ": safetensors " + what);
}

Result<std::vector<int64_t>> ParseShape(const Json& j, uint64_t* numel) {
  if (!j.is_array() || j.size() > 8) return Status::Corrupt("'shape' must be an array of at most 8 dimensions");
  std::vector<int64_t> shape;
  uint64_t n = 1;
  for (const Json& d : j) {
    if (!d.is_number_unsigned()) return Status::Corrupt("'shape' holds " + d.dump() + ", not a dimension");
    const uint64_t v = d.get<uint64_t>();
    if (v > (1ull << 62) || __builtin_mul_overflow(n, v, &n) || n > (1ull << 62))
      return Status::Corrupt("shape " + j.dump() + " has more elements than fit in memory");
    shape.push_back(static_cast<int64_t>(v));
  }
  *numel = n;
  return shape;
}

Result<SafetensorsInfo> ParseEntry(const std::string& name, const Json& j, uint64_t data_size) {
  if (!j.is_object()) return Status::Corrupt("is not an object");
  const auto dtype = j.find("dtype"), shape = j.find("shape"), offsets = j.find("data_offsets");
  if (dtype == j.end() || shape == j.end() || offsets == j.end() || !dtype->is_string())
    return Status::Corrupt("needs a string 'dtype', a 'shape' and 'data_offsets'");
  SafetensorsInfo info{.name = name, .dtype = dtype->get<std::string>()};
  const DtypeInfo* d = FindDtype(info.dtype);
  if (d == nullptr) return Status::Unsupported("has dtype '" + info.dtype + "', which safetensors does not define");
  uint64_t numel = 0;
  STRATA_ASSIGN_OR_RETURN(info.shape, ParseShape(*shape, &numel));
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    return Status::Corrupt("'data_offsets' must be two non-negative integers, not " + offsets->dump());
  info.begin = (*offsets)[0].get<uint64_t>();
  info.end = (*offsets)[1].get<uint64_t>();
  if (info.begin > info.end || info.end > data_size)
    return Status::Corrupt("'data_offsets' [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                           "] are not an ordered range inside the data area of " + std::to_string(data_size) +
                           " bytes");
  uint64_t bits = 0;
  if (__builtin_mul_overflow(numel, d->bits, &bits)) return Status::Corrupt("has more bits than fit in 64");
  if (bits % 8 != 0 || bits / 8 != info.end - info.begin)
    return Status::Corrupt("holds " + std::to_string(info.end - info.begin) + " bytes but shape " +
                           ShapeToString(info.shape) + " of " + info.dtype + " needs " +
                           (bits % 8 ? "a fractional number of bytes" : std::to_string(bits / 8)));
  return info;
}

Status CheckNoOverlap(const std::string& path, std::vector<SafetensorsInfo> sorted) {
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const SafetensorsInfo &prev = sorted[i - 1], &cur = sorted[i];
    if (cur.begin < prev.end && cur.begin != cur.end && prev.begin != prev.end)
      return Bad(path, "tensors '" + prev.name + "' and '" + cur.name + "' overlap (bytes " +
                           std::to_string(cur.begin) + ".." + std::to_string(prev.end) + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBytes(const std::string& name, std::string_view bytes) {
  return Parse(MappedFile::FromBytes(name, bytes));
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(std::shared_ptr<MappedFile> file) {
  const std::string& path = file->path();
  const uint64_t size = file->size();
  if (size < 8) return Bad(path, "file is " + std::to_string(size) + " bytes, shorter than its 8-byte header length");
  const uint64_t header_len = ReadLe64(file->data());
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    return Bad(path, "header length " + std::to_string(header_len) + " exceeds the file (" + std::to_string(size) +
                         " bytes) or the " + std::to_string(kMaxHeaderBytes) + "-byte limit");
  const auto* text = reinterpret_cast<const char*>(file->data() + 8);
  Json header = Json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return Bad(path, "header is not a JSON object");

  auto out = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  out->file_ = std::move(file);
  out->data_offset_ = 8 + header_len;
  const uint64_t data_size = size - out->data_offset_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;  // free-form strings; nothing Strata needs
    auto info = ParseEntry(name, value, data_size);
    if (!info.ok())
      return Status(info.status().code(), path + ": safetensors tensor '" + name + "' " + info.status().message());
    out->by_name_.emplace(name, out->tensors_.size());
    out->tensors_.push_back(std::move(*info));
  }
  STRATA_RETURN_IF_ERROR(CheckNoOverlap(path, out->tensors_));
  return out;
}

const SafetensorsInfo* SafetensorsFile::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

Result<Tensor> SafetensorsFile::TensorView(const SafetensorsInfo& info) const {
  const std::string where = path() + ": tensor '" + info.name + "'";
  DType dtype;
  if (info.dtype == "F32") dtype = DType::kF32;
  else if (info.dtype == "F16") dtype = DType::kF16;
  else if (info.dtype == "BF16") dtype = DType::kBF16;
  else return Status::Unsupported(where + " has dtype " + info.dtype + " (supported: F32, F16, BF16)");
  // `info` may not come from this file; re-check its bounds rather than trust it.
  uint64_t start = 0;
  if (__builtin_add_overflow(data_offset_, info.begin, &start) || info.end < info.begin || start > file_size() ||
      info.end - info.begin > file_size() - start)
    return Status::InvalidArgument(where + ": data range is outside the file (is the info from another file?)");
  // Kernels read elements through typed pointers; a misaligned start would be undefined behaviour.
  const uint64_t natural = dtype == DType::kF32 ? 4 : 2;
  if (start % natural != 0)
    return Status::Unsupported(where + ": data at file offset " + std::to_string(start) + " is not aligned to " +
                               std::to_string(natural) + " bytes");
  return Tensor::View(dtype, info.shape, file_->data() + start, file_);
}

namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shard names of an index's weight_map, by tensor; each must be a plain file name inside the folder.
Result<std::map<std::string, std::string>> ReadWeightMap(const std::string& index_path) {
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadText(index_path));
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto map = j.is_object() ? j.find("weight_map") : j.end();
  if (j.is_discarded() || map == j.end() || !map->is_object())
    return Status::Corrupt(index_path + ": not a JSON object with a \"weight_map\" object");
  std::map<std::string, std::string> out;
  for (const auto& [name, file] : map->items()) {
    if (!file.is_string()) return Status::Corrupt(index_path + ": weight_map['" + name + "'] is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      return Status::Corrupt(index_path + ": weight_map['" + name + "'] names '" + f + "', not a file in the folder");
    out.emplace(name, f);
  }
  return out;
}

}  // namespace

Result<SafetensorsSet> SafetensorsSet::OpenFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  SafetensorsSet set;
  const std::string index = dir + "/model.safetensors.index.json";
  std::error_code ec;
  if (!fs::exists(index, ec)) {
    STRATA_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(dir + "/model.safetensors"));
    for (const SafetensorsInfo& t : file->tensors()) set.entries_[t.name] = {file.get(), &t};
    set.files_.push_back(std::move(file));
    return set;
  }
  STRATA_ASSIGN_OR_RETURN(auto weight_map, ReadWeightMap(index));
  std::map<std::string, const SafetensorsFile*> shards;
  for (const auto& [name, shard] : weight_map) {
    if (!shards.count(shard)) {
      STRATA_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(dir + "/" + shard));
      shards[shard] = file.get();
      set.files_.push_back(std::move(file));
    }
    const SafetensorsInfo* info = shards[shard]->Find(name);
    if (info == nullptr)
      return Status::Corrupt(index + ": weight_map puts '" + name + "' in " + shard + ", which has no such tensor");
    set.entries_[name] = {shards[shard], info};
  }
  return set;
}

SafetensorsSet::Entry SafetensorsSet::Find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? Entry{} : it->second;
}

Result<Tensor> SafetensorsSet::TensorView(std::string_view name) const {
  const Entry e = Find(name);
  if (e.file == nullptr) return Status::NotFound("no safetensors file of the folder holds '" + std::string(name) + "'");
  return e.file->TensorView(*e.info);
}

std::vector<std::string> SafetensorsSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

}  // namespace strata
