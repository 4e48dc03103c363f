// `strata convert DIR -o model.gguf [--dtype TYPE]`: a Hugging Face Llama folder to a GGUF file llama.cpp
// loads (model/hf_convert.h), with progress on stderr.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/log.h"
#include "model/hf_convert.h"

namespace strata::cli {
namespace {

struct ConvertCliOptions {
  std::string dir, out, dtype;
  int threads = 0;
};

int Convert(const ConvertCliOptions& o) {
  ConvertOptions options{.threads = o.threads};
  if (!o.dtype.empty()) {
    auto dtype = ParseConvertDType(o.dtype);
    if (!dtype.ok()) {
      spdlog::error("{}", dtype.status().message());
      return 2;
    }
    options.dtype = *dtype;
  }
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int last_pct = -1;
  bool reading = true;
  options.progress = [&](const std::string& tensor, uint64_t done, uint64_t total) {
    const int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (reading != tensor.empty()) last_pct = -1;  // the read is done: the writing starts at 0%
    reading = tensor.empty();
    if (pct == last_pct) return;
    last_pct = pct;
    const char* what = reading ? "reading" : "converting";
    if (tty) std::fprintf(stderr, "\r%s: %3d%% (%.1f / %.1f MiB) %-40s", what, pct, done / 1048576.0, total / 1048576.0, tensor.c_str());
    else if (pct % 10 == 0) spdlog::info("{}: {}% ({:.1f} / {:.1f} MiB)", what, pct, done / 1048576.0, total / 1048576.0);
  };
  options.note = [](const std::string& message) { spdlog::warn("{}", message); };
  const Status st = ConvertHfFolderToGguf(o.dir, o.out, options);
  if (tty && last_pct >= 0) std::fputc('\n', stderr);
  if (!st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  spdlog::info("wrote {}", o.out);
  return 0;
}

}  // namespace

void RegisterConvert(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ConvertCliOptions>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a Hugging Face Llama folder to a GGUF file");
  cmd->add_option("dir", opts->dir, "folder with config.json, tokenizer.json and *.safetensors")->required();
  cmd->add_option("-o,--output", opts->out, "GGUF file to write")->required();
  cmd->add_option("--dtype", opts->dtype, "type of the 2-D tensors: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k... (default: as in the folder); norms stay f32");
  cmd->add_option("-t,--threads", opts->threads, "quantizing threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([opts, &exit_code] { exit_code = Convert(*opts); });
}

}  // namespace strata::cli
