// An architecture is one file under model/arch/: the metadata keys it reads into a ModelConfig, the weights
// it needs with their shapes, and how its forward graph is built from shared blocks (arch/blocks.h) through
// a GraphBuilder. arch/registry.cpp lists them; everything else finds them by general.architecture.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/arch/graph_builder.h"
#include "model/model_config.h"

namespace strata {

class GgufFile;
class GgufWriter;
class Tensor;

// A weight the architecture reads, with the shape it must have (outermost first: [out, in]; experts
// [n_experts, out, in]).
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// An architecture's view of a GGUF file: its "<arch>." metadata keys, range-checked, remembering which it
// read so keys nobody understood can be reported; and the tensor directory (shapes by name).
class ArchSource {
 public:
  ArchSource(const GgufFile& gguf, std::string arch);

  const std::string& arch() const { return arch_; }
  const std::string& path() const;
  bool Has(const std::string& key);  // "<arch>.<key>" is present (and counts as read)
  Result<int64_t> Int(const std::string& key, int64_t max_value);                   // required, 1..max
  Result<int64_t> OptInt(const std::string& key, int64_t fallback, int64_t max_value);  // 0..max when present
  Result<float> Float(const std::string& key);  // required, finite
  Result<float> OptFloat(const std::string& key, float fallback);
  Result<bool> OptBool(const std::string& key, bool fallback);
  Result<std::string> OptString(const std::string& key, const std::string& fallback);
  // A tensor's shape (outermost first), or null when the file has no such tensor.
  const std::vector<int64_t>* TensorShape(const std::string& name) const;
  // kUnsupported naming the first "<arch>." key that was neither read nor listed in `ignored` (keys that do
  // not change the computation, such as vocab_size).
  Status CheckKeysUnderstood(const std::vector<std::string>& ignored) const;
  Status Corrupt(const std::string& what) const;
  Status Unsupported(const std::string& what) const;

 private:
  std::string Key(const std::string& key) const { return arch_ + "." + key; }
  const GgufFile& gguf_;
  std::string arch_;
  std::set<std::string> read_;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes_;
};

// A shape gen-model can write for an architecture (random weights): "tiny" for tests, "1b" and the like for
// benchmarks. n_vocab comes from the vocabulary file, n_ctx from gen-model.
struct ArchShape {
  const char* name;  // "qwen3-1b"
  const char* like;  // the released model whose shape it has
  ModelConfig config;
};

struct Architecture {
  std::string_view name;
  // Reads the config; kUnsupported for keys or values the architecture does not handle.
  Result<ModelConfig> (*read_config)(ArchSource& source);
  // Every weight of the model, in execution order.
  std::vector<WeightSpec> (*weights)(const ModelConfig& config);
  // Emits the forward graph.
  void (*build)(const ModelConfig& config, GraphBuilder& b);
  // Writes config's "<arch>." keys as llama.cpp reads them (gen-model, convert).
  void (*write_keys)(const ModelConfig& config, GgufWriter& w);
  // The shapes gen-model writes.
  std::vector<ArchShape> (*shapes)();
};

// The architecture named `name`, or null.
const Architecture* FindArchitecture(std::string_view name);
std::vector<std::string> ArchitectureNames();

// Reads the config of a GGUF file through its architecture and checks its tensors: every weight the
// architecture needs exists with its shape and a usable dtype, and no tensor is left over that it would
// ignore (experts in a dense file, say).
Result<ModelConfig> ReadModelConfig(const GgufFile& gguf);
Status ValidateWeights(const GgufFile& gguf, const ModelConfig& config);
// Checks one weight against its spec (shape; 1-D weights f32); `where` names the source ("x.gguf: tensor 'n'").
Status CheckWeight(const std::string& where, const WeightSpec& spec, const Tensor& t);
// The weights of `config`'s architecture (empty for an unknown one).
std::vector<WeightSpec> ArchWeights(const ModelConfig& config);

}  // namespace strata
