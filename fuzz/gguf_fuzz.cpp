// Fuzzes the GGUF reader with arbitrary bytes, then everything that reads a parsed file's metadata: the typed
// getters and renderings, tensor views, the tokenizer built from tokenizer.ggml.* and the architecture's config and weights.
// A bad file must give a Status, never a crash, an out-of-bounds read or an allocation sized by the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/gguf.h"
#include "model/arch/architecture.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  auto file = GgufFile::FromBytes("fuzz.gguf", std::string_view(reinterpret_cast<const char*>(data), size));
  if (!file.ok()) return 0;
  const GgufFile& g = **file;
  for (const auto& [key, value] : g.metadata()) {
    (void)value.ToString();
    (void)value.AsUint();
    (void)value.AsInt();
    (void)value.AsFloat();
    (void)value.AsString();
  }
  for (const GgufTensorInfo& t : g.tensors()) (void)g.TensorView(t);
  auto tok = CreateTokenizer(g);
  if (tok.ok()) {
    const Tokenizer& t = **tok;
    const auto ids = t.Encode("Hello world, \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80 <s>\n\t1234", true);
    (void)t.Decode(ids);
    for (int32_t id = 0; id < t.n_vocab() && id < 512; ++id) (void)t.TokenBytes(id);
  }
  auto config = ReadModelConfig(g);  // through the file's architecture
  if (config.ok()) {
    (void)config->ToString();
    (void)ValidateWeights(g, *config);
  }
  return 0;
}
