// `strata info`: the metadata and tensor table of a GGUF file, or the config and safetensors table of a Hugging
// Face folder; a non-zero exit and a clear message when the file is invalid.
#include <cstdio>
#include <filesystem>

#include "cli/guide.h"
#include "cli/commands.h"
#include "core/log.h"
#include "model/gguf.h"
#include "model/hf_config.h"
#include "model/arch/architecture.h"
#include "model/model.h"
#include "model/safetensors.h"

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

void PrintSafetensors(const SafetensorsSet& set) {
  std::printf("\ntensors:\n  %-48s %-5s %-16s %-36s %12s\n", "name", "type", "shape", "file", "bytes");
  uint64_t total = 0;
  for (const std::string& name : set.Names()) {
    const SafetensorsSet::Entry e = set.Find(name);
    const std::string file = std::filesystem::path(e.file->path()).filename().string();
    std::printf("  %-48s %-5s %-16s %-36s %12llu\n", name.c_str(), e.info->dtype.c_str(),
                ShapeToString(e.info->shape).c_str(), file.c_str(), static_cast<unsigned long long>(e.info->end - e.info->begin));
    total += e.info->end - e.info->begin;
  }
  std::printf("  %zu tensors in %zu files, %.2f MiB\n", set.Names().size(), set.files().size(), total / 1048576.0);
}

int InfoFolder(const InfoOptions& o) {
  auto config = ReadHfConfig(o.model + "/config.json");
  auto set = SafetensorsSet::OpenFolder(o.model);
  if (!set.ok()) {
    spdlog::error("{}", set.status().message());
    PrintLoadFailureHint(o.model);
    return 1;
  }
  std::printf("%s: Hugging Face folder, %s\n", o.model.c_str(), config.ok() ? config->architecture.c_str() : "");
  PrintSafetensors(*set);
  if (!config.ok()) {
    std::printf("\nnot runnable: %s\n", config.status().message().c_str());
    return 0;
  }
  auto model = Model::Load(o.model);
  std::printf("\n%s\n", (model.ok() ? (*model)->config() : config->llama).ToString().c_str());
  if (!model.ok()) std::printf("not runnable: %s\n", model.status().message().c_str());
  return 0;
}

int Info(const InfoOptions& o) {
  std::error_code ec;
  if (std::filesystem::is_directory(o.model, ec)) return InfoFolder(o);
  auto gguf = GgufFile::Open(o.model);
  if (!gguf.ok()) {
    spdlog::error("{}", gguf.status().message());
    PrintLoadFailureHint(o.model);
    return 1;
  }
  PrintMetadata(**gguf, o.max_items);
  PrintTensors(**gguf);
  auto config = ReadModelConfig(**gguf);
  if (config.ok()) {
    std::printf("\n%s\n", config->ToString().c_str());
    const Status weights = ValidateWeights(**gguf, *config);
    if (!weights.ok()) std::printf("not runnable: %s\n", weights.message().c_str());
  } else {
    std::printf("\nnot runnable: %s\n", config.status().message().c_str());
  }
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Print the metadata and tensor table of a GGUF file or Hugging Face folder");
  cmd->add_option("-m,--model", opts->model, "GGUF file or Hugging Face model folder")->required();
  cmd->add_option("--max-items", opts->max_items, "array items to show per metadata value")->check(CLI::NonNegativeNumber);
  cmd->callback([opts, &exit_code] { exit_code = Info(*opts); });
}

}  // namespace strata::cli
