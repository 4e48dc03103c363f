// Test helper: copies a GGUF file with its metadata and tensor list edited, for crafting files an
// architecture must reject (keys dropped or added, tensors renamed or reshaped).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "model/gguf.h"
#include "model/gguf_writer.h"

namespace strata::testing {

struct GgufEdit {
  std::vector<std::pair<std::string, GgufValue>> metadata;
  struct Entry {
    std::string name;
    Tensor tensor;  // written as is (dtype, shape, bytes)
  };
  std::vector<Entry> tensors;
};

inline Status RewriteGguf(const std::string& src, const std::string& dst, const std::function<void(GgufEdit&)>& edit) {
  STRATA_ASSIGN_OR_RETURN(auto in, GgufFile::Open(src));
  GgufEdit e;
  for (const auto& [key, value] : in->metadata())
    if (key != "general.alignment") e.metadata.emplace_back(key, value);
  for (const GgufTensorInfo& info : in->tensors()) {
    STRATA_ASSIGN_OR_RETURN(Tensor t, in->TensorView(info));
    e.tensors.push_back({info.name, t});
  }
  edit(e);
  GgufWriter w;
  for (auto& [key, value] : e.metadata) w.AddKv(key, value);
  for (const auto& t : e.tensors) STRATA_RETURN_IF_ERROR(w.AddTensorInfo(t.name, t.tensor.dtype(), t.tensor.shape()));
  STRATA_RETURN_IF_ERROR(w.WriteHeader(dst));
  for (const auto& t : e.tensors) STRATA_RETURN_IF_ERROR(w.WriteTensorData(t.tensor.data(), static_cast<size_t>(t.tensor.nbytes())));
  return w.Finish();
}

inline void DropKey(GgufEdit& e, const std::string& key) {
  std::erase_if(e.metadata, [&](const auto& kv) { return kv.first == key; });
}

inline void SetU32(GgufEdit& e, const std::string& key, uint32_t v) {
  DropKey(e, key);
  e.metadata.emplace_back(key, GgufValue{GgufType::kU32, uint64_t{v}});
}

}  // namespace strata::testing
