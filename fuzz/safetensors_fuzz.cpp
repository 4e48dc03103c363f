// Fuzzes the safetensors reader with arbitrary bytes, then the tensor views of whatever parsed; and the same
// bytes as a config.json. A bad file must give a Status, never a crash, an out-of-bounds read or a hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/hf_config.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = SafetensorsFile::FromBytes("fuzz.safetensors", bytes);
  if (file.ok()) {
    for (const SafetensorsInfo& t : (*file)->tensors()) {
      auto view = (*file)->TensorView(t);
      if (view.ok() && view->nbytes() > 0) {
        volatile uint8_t sink = static_cast<const uint8_t*>(view->data())[view->nbytes() - 1];
        (void)sink;
      }
    }
  }
  (void)ParseHfConfig("fuzz/config.json", std::string(bytes));
  return 0;
}
