// `strata gen-model`: writes a benchmark GGUF with the real shapes of a Llama 3 model, random weights and the
// Llama-2 vocabulary (see model/bench_models.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/log.h"
#include "model/bench_models.h"
#include "model/inflate_model.h"

namespace strata::cli {
namespace {

// $STRATA_TESTDATA/tokenizer/llama2-vocab.gguf, else the shared test data beside the checkout.
std::string DefaultVocab() {
  const char* env = std::getenv("STRATA_TESTDATA");
  const std::string dir = env && *env ? env : "../shared/testdata";
  return dir + "/tokenizer/llama2-vocab.gguf";
}

std::string ShapeList() {
  std::string out;
  for (const auto& s : BenchModelShapes()) out += "\n  " + s.name + " (" + s.arch + "): " + s.like;
  return out;
}

struct InflateFlags {
  std::string from;  // --inflate FILE
  int64_t ffn = 0;
  float noise = 0;
};

int GenModel(BenchModelOptions o, const InflateFlags& inflate, bool dtype_given) {
  std::error_code ec;
  if (inflate.from.empty() && !std::filesystem::is_regular_file(o.vocab_path, ec)) {  // --inflate keeps its file's
    spdlog::error("vocab file '{}' not found: pass --vocab FILE (a GGUF with tokenizer.ggml.* keys, e.g. "
                  "shared/testdata/tokenizer/llama2-vocab.gguf) or set STRATA_TESTDATA",
                  o.vocab_path);
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int last_pct = -1, last_decile = -1;  // without a terminal, a log line per 10%
  o.progress = [&](const std::string& tensor, uint64_t done, uint64_t total) {
    const int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (pct == last_pct) return;
    last_pct = pct;
    if (tty) {
      std::fprintf(stderr, "\rwriting %s: %3d%% (%.0f / %.0f MiB) %-28s%s", o.out_path.c_str(), pct,
                   done / 1048576.0, total / 1048576.0, tensor.c_str(), done == total ? "\n" : "");
    } else if (pct / 10 != last_decile) {
      last_decile = pct / 10;
      spdlog::info("writing {}: {}% ({:.0f} / {:.0f} MiB), at {}", o.out_path, pct, done / 1048576.0,
                   total / 1048576.0, tensor);
    }
  };
  const Status st = inflate.from.empty()
                        ? GenerateBenchModel(o)
                        : InflateModel({.in_path = inflate.from, .out_path = o.out_path, .ffn = inflate.ffn,
                                        .noise = inflate.noise, .seed = o.seed, .dtype = dtype_given ? o.dtype : "",
                                        .progress = o.progress});
  if (!st.ok()) {
    if (tty && last_pct >= 0 && last_pct < 100) std::fputc('\n', stderr);
    spdlog::error("{}", st.message());
    return 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (inflate.from.empty())
    spdlog::info("wrote {} ({} {} {}, seed {}) in {:.1f} s", o.out_path, o.arch, o.shape, o.dtype, o.seed, s);
  else
    spdlog::info("wrote {} ({} with feed-forward width {}, noise {}, seed {}) in {:.1f} s", o.out_path, inflate.from,
                 inflate.ffn, inflate.noise, o.seed, s);
  return 0;
}

}  // namespace

void RegisterGenModel(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<BenchModelOptions>();
  auto inflate = std::make_shared<InflateFlags>();
  opts->vocab_path = DefaultVocab();
  CLI::App* cmd = app.add_subcommand(
      "gen-model",
      "Write a GGUF of any architecture Strata loads, in the real shape of a released model or a tiny one, "
      "random normal(0, 0.02) weights from the seed, norms 1.0, the vocabulary of --vocab (default Llama-2's, "
      "32000 tokens). Shapes:" + ShapeList() + "\nq4_k is a simplified Q4_K_M: Q4_K matrices, with Q6_K for token_embd, output, attn_v and "
      "ffn_down; q3_k_m, q4_k_m and q5_k_m are llama.cpp's presets, tensor by tensor as llama-quantize chooses. The data is streamed to the file (an 8B model takes 5 to 16 GB of disk).");
  cmd->add_option("--arch", opts->arch, "Architecture (llama, qwen2, qwen3, gemma2, gemma3, phi3, qwen2moe, qwen3moe)");
  cmd->add_option("--shape", opts->shape,
                  "Model shape: a full name (qwen3-1b) or, with --arch, a short one (1b, tiny); default: the "
                  "architecture's first (llama-1b)");
  CLI::Option* dtype = cmd->add_option("--dtype", opts->dtype, "Weight type (norms stay f32)")
      ->capture_default_str()
      ->check(CLI::IsMember(BenchModelDtypes()));
  cmd->add_option("-o,--output", opts->out_path, "GGUF file to write")->required();
  cmd->add_option("--layers", opts->layers, "Block count instead of the shape's (for tests and quick benches)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", opts->seed, "Seed of the random weights")->capture_default_str();
  cmd->add_option("--ctx", opts->n_ctx, "Context length written to the file (default 2048)")->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--std", opts->weight_std,
                  "Standard deviation of the random matrices (0.02: flat next-token distributions; ~0.2 for tests "
                  "that compare engines' choices)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 10.0));
  cmd->add_option("--vocab", opts->vocab_path,
                  "GGUF whose tokenizer.* keys are copied: any vocab GGUF, SentencePiece or byte-level BPE")
      ->capture_default_str();
  cmd->add_option("-t,--threads", opts->threads, "Threads for generating and quantizing (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--inflate", inflate->from,
                  "Instead of random weights: widen this trained GGUF's feed-forward blocks to --ffn units (the new "
                  "ones zero, or normal(0, --noise)); a big target whose original is a natural draft model. --dtype "
                  "(f32, f16, q8_0, q4_0) converts its matrices; without it each keeps its type")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ffn", inflate->ffn, "With --inflate: the new feed-forward width (a multiple of 32)");
  cmd->add_option("--noise", inflate->noise, "With --inflate: standard deviation of the new units' weights (0: zeros)")
      ->capture_default_str();
  cmd->callback([opts, inflate, dtype, &exit_code] { exit_code = GenModel(*opts, *inflate, dtype->count() > 0); });
}

}  // namespace strata::cli
