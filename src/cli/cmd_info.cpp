// `strata info`: the metadata and tensor table of a GGUF file; a non-zero exit and a clear message when the
// file is invalid.
#include <cstdio>

#include "cli/commands.h"
#include "core/log.h"
#include "model/gguf.h"
#include "model/llama_arch.h"

namespace strata::cli {
namespace {

struct InfoOptions {
  std::string model;
  int max_items = 8;
};

void PrintMetadata(const GgufFile& f, int max_items) {
  std::printf("%s: GGUF v%u, %zu metadata keys, %zu tensors, alignment %llu, data at byte %llu of %llu\n\n",
              f.path().c_str(), f.version(), f.metadata().size(), f.tensors().size(),
              static_cast<unsigned long long>(f.alignment()), static_cast<unsigned long long>(f.data_offset()),
              static_cast<unsigned long long>(f.file_size()));
  std::printf("metadata:\n");
  for (const auto& [key, value] : f.metadata())
    std::printf("  %-44s %-8s %s\n", key.c_str(), GgufTypeName(value.type), value.ToString(static_cast<size_t>(max_items)).c_str());
}

void PrintTensors(const GgufFile& f) {
  std::printf("\ntensors:\n  %-32s %-6s %-16s %12s %12s\n", "name", "type", "shape", "offset", "bytes");
  uint64_t total = 0;
  for (const auto& t : f.tensors()) {
    std::string shape = ShapeToString(t.Shape());
    std::printf("  %-32s %-6s %-16s %12llu %12llu\n", t.name.c_str(), GgmlTypeName(t.ggml_type), shape.c_str(),
                static_cast<unsigned long long>(t.offset), static_cast<unsigned long long>(t.nbytes));
    total += t.nbytes;
  }
  std::printf("  %zu tensors, %.2f MiB\n", f.tensors().size(), total / 1048576.0);
}

int Info(const InfoOptions& o) {
  auto gguf = GgufFile::Open(o.model);
  if (!gguf.ok()) {
    spdlog::error("{}", gguf.status().message());
    return 1;
  }
  PrintMetadata(**gguf, o.max_items);
  PrintTensors(**gguf);
  auto config = LlamaConfig::FromGguf(**gguf);
  if (config.ok()) {
    std::printf("\n%s\n", config->ToString().c_str());
    const Status weights = ValidateLlamaWeights(**gguf, *config);
    if (!weights.ok()) std::printf("not runnable: %s\n", weights.message().c_str());
  } else {
    std::printf("\nnot runnable: %s\n", config.status().message().c_str());
  }
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Print the metadata and tensor table of a GGUF file");
  cmd->add_option("-m,--model", opts->model, "GGUF file")->required();
  cmd->add_option("--max-items", opts->max_items, "array items to show per metadata value")->check(CLI::NonNegativeNumber);
  cmd->callback([opts, &exit_code] { exit_code = Info(*opts); });
}

}  // namespace strata::cli
