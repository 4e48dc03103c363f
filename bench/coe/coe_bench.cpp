// Composition of Experts figures, engine level (the serving loop without HTTP):
//   switch: the time to bring one expert from disk into RAM (compile, pack, KV cache), cold (its file dropped
//           from the page cache) and page-cached, next to the bandwidths measured in the same run: memcpy of
//           the expert's weight bytes (RAM -> RAM) and a sequential read() of its file (cold: disk -> RAM).
//   zipf:   N experts, a RAM budget for B of them, requests whose expert follows a Zipf law, several in flight;
//           tokens per second next to the same requests all sent to one expert.
// Experts are `strata gen-model` files written into --dir. Usage:
//   strata_coe_bench switch --dir /tmp/coe-bench [--shape llama-1b --layers 4]
//   strata_coe_bench zipf --dir /tmp/coe-bench [--experts 150 --budget-experts 8 --requests 600]
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "coe/coe_engine.h"
#include "model/bench_models.h"

namespace strata::coe {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Options {
  std::string dir = "/tmp/coe-bench";
  std::string vocab;
  std::string shape = "llama-1b";
  int64_t layers = 4;
  int experts = 150, budget_experts = 8, requests = 600, concurrency = 8, max_tokens = 16, rounds = 3, threads = 0;
  double zipf = 1.1;
};

std::string Expert(const Options& o, const std::string& shape, int64_t layers, int seed) {
  const std::string path = o.dir + "/" + shape + "-" + std::to_string(layers) + "-" + std::to_string(seed) + ".gguf";
  if (std::filesystem::exists(path)) return path;
  BenchModelOptions g{.arch = "", .shape = shape, .dtype = "q8_0", .out_path = path, .vocab_path = o.vocab,
                      .layers = layers, .seed = static_cast<uint64_t>(seed), .weight_std = 0.2f};
  if (Status st = GenerateBenchModel(g); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    std::exit(1);
  }
  return path;
}

CoeEngineOptions EngineOptions(const Options& o) {
  CoeEngineOptions e;
  e.engine.max_model_len = 256;
  e.engine.scheduler.max_num_seqs = 8;
  e.engine.scheduler.max_num_batched_tokens = 256;
  e.threads = o.threads;
  return e;
}

GenerateRequest Request(const CoeEngine& coe, int expert, int n, int64_t max_tokens) {
  GenerateRequest r;
  r.id = "b" + std::to_string(n);
  r.prompt = coe.expert(expert).model->tokenizer().Encode("Request number " + std::to_string(n) + " says", true);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

int64_t DrainCount(OutputStream& s) {
  int64_t tokens = 0;
  for (;;) {
    auto d = s.Next(std::chrono::milliseconds(600000));
    if (!d) return tokens;
    tokens += static_cast<int64_t>(d->tokens.size());
    if (d->finished) return tokens;
  }
}

double MemcpyGBs(int64_t bytes) {
  std::vector<char> a(static_cast<size_t>(bytes), 1), b(static_cast<size_t>(bytes));
  std::memcpy(b.data(), a.data(), a.size());  // both touched once
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    const auto t = Clock::now();
    std::memcpy(b.data(), a.data(), a.size());
    best = std::min(best, Since(t));
  }
  return static_cast<double>(bytes) / best / 1e9;
}

void DropFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double ReadGBs(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<char> buf(8 << 20);
  int64_t total = 0;
  const auto t = Clock::now();
  for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;) total += n;
  const double s = Since(t);
  ::close(fd);
  return static_cast<double>(total) / s / 1e9;
}

// Two experts, room for one: every request switches. Load seconds are the loader's own (metrics).
int Switch(const Options& o) {
  CoeConfig config{.name = "switch", .ram_budget = int64_t{1} << 40};
  for (int s = 1; s <= 2; ++s)
    config.experts.push_back({.name = "x" + std::to_string(s), .model = Expert(o, o.shape, o.layers, s)});
  auto probe = CoeEngine::Create(config, EngineOptions(o));
  if (!probe.ok()) return std::fprintf(stderr, "%s\n", probe.status().message().c_str()), 1;
  const ExpertFootprint f = (*probe)->expert(0).footprint;
  probe->reset();
  config.ram_budget = f.total();
  auto coe = CoeEngine::Create(config, EngineOptions(o));
  if (!coe.ok()) return std::fprintf(stderr, "%s\n", coe.status().message().c_str()), 1;
  const int64_t file_bytes = static_cast<int64_t>(std::filesystem::file_size(config.experts[0].model));
  std::printf("expert %s (%d layers) q8_0: file %.1f MiB, weights %.1f MiB, footprint %s\n", o.shape.c_str(),
              static_cast<int>(o.layers), file_bytes / 1048576.0, f.weights / 1048576.0, f.Describe().c_str());
  const double copy = MemcpyGBs(f.weights);
  DropFromPageCache(config.experts[0].model);
  const double disk = ReadGBs(config.experts[0].model);
  std::printf("memcpy %.2f GB/s; read() of the file from a dropped page cache %.2f GB/s\n", copy, disk);
  for (const bool cold : {true, false}) {
    double total = 0;
    int n = 0;
    for (int i = 0; i < 2 * o.rounds + 1; ++i) {
      const int e = i % 2;
      if (cold) DropFromPageCache(config.experts[static_cast<size_t>(e)].model);
      const double before = (*coe)->metrics().expert(e).loads;
      const auto t = Clock::now();
      auto s = (*coe)->Submit(e, Request(**coe, e, i, 1));
      if (!s.ok()) return 1;
      DrainCount(**s);
      if (i == 0 || (*coe)->metrics().expert(e).loads == before) continue;  // the first load is not a switch
      total += Since(t);
      ++n;
    }
    const double seconds = total / std::max(n, 1);
    const double gbs = static_cast<double>(f.weights) / seconds / 1e9;
    std::printf("%s switch: %.1f ms per expert (request to its one token), %.2f GB/s of weights: %.0f%% of %s\n",
                cold ? "cold" : "page-cached", seconds * 1e3, gbs, 100 * gbs / (cold ? disk : copy),
                cold ? "read()" : "memcpy");
  }
  return 0;
}

// Zipf over experts: P(rank k) ∝ 1 / k^s.
int ZipfLoad(const Options& o) {
  CoeConfig config{.name = "zipf", .ram_budget = int64_t{1} << 40};
  for (int s = 0; s < o.experts; ++s)
    config.experts.push_back({.name = "z" + std::to_string(s), .model = Expert(o, "llama-tiny", 0, s + 1)});
  auto probe = CoeEngine::Create(config, EngineOptions(o));
  if (!probe.ok()) return std::fprintf(stderr, "%s\n", probe.status().message().c_str()), 1;
  config.ram_budget = (*probe)->expert(0).footprint.total() * o.budget_experts;
  probe->reset();
  std::vector<double> weights;
  for (int k = 1; k <= o.experts; ++k) weights.push_back(1.0 / std::pow(k, o.zipf));
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  std::mt19937 rng(42);
  std::vector<int> experts(static_cast<size_t>(o.requests));
  for (int& e : experts) e = pick(rng);
  for (const bool one : {false, true}) {
    auto coe = CoeEngine::Create(config, EngineOptions(o));
    if (!coe.ok()) return 1;
    const auto t = Clock::now();
    int64_t tokens = 0;
    for (size_t i = 0; i < experts.size(); i += static_cast<size_t>(o.concurrency)) {
      std::vector<std::shared_ptr<OutputStream>> streams;
      for (size_t k = i; k < std::min(experts.size(), i + static_cast<size_t>(o.concurrency)); ++k) {
        const int e = one ? 0 : experts[k];
        auto s = (*coe)->Submit(e, Request(**coe, e, static_cast<int>(k), o.max_tokens));
        if (!s.ok()) return std::fprintf(stderr, "%s\n", s.status().message().c_str()), 1;
        streams.push_back(*s);
      }
      for (auto& s : streams) tokens += DrainCount(*s);
    }
    const double seconds = Since(t);
    int64_t loads = 0, evictions = 0, used = 0;
    for (int e = 0; e < o.experts; ++e) {
      loads += (*coe)->metrics().expert(e).loads;
      evictions += (*coe)->metrics().expert(e).evictions;
      used += (*coe)->metrics().expert(e).requests > 0;
    }
    std::printf("%s: %d requests x %d tokens, %d in flight: %.1f s, %.1f tok/s; %lld experts used, %lld loads, "
                "%lld evictions, resident hit rate %.0f%%\n",
                one ? "one expert (same requests)" : "zipf over experts", o.requests, o.max_tokens, o.concurrency,
                seconds, tokens / seconds, static_cast<long long>(used), static_cast<long long>(loads),
                static_cast<long long>(evictions), 100.0 * (1.0 - static_cast<double>(loads) / o.requests));
  }
  return 0;
}

}  // namespace
}  // namespace strata::coe

int main(int argc, char** argv) {
  strata::coe::Options o;
  CLI::App app("Composition of Experts figures");
  app.require_subcommand(1);
  for (CLI::App* cmd : {app.add_subcommand("switch", "expert switch time next to copy bandwidth"),
                        app.add_subcommand("zipf", "throughput with many experts under a Zipf popularity")}) {
    cmd->add_option("--dir", o.dir, "where the generated experts are written (kept for later runs)");
    cmd->add_option("--vocab", o.vocab, "vocab GGUF for the generated experts (default: Llama-2's)");
    cmd->add_option("-t,--threads", o.threads, "compute threads (0: all)");
  }
  CLI::App* sw = app.get_subcommand("switch");
  sw->add_option("--shape", o.shape, "expert shape (gen-model)")->capture_default_str();
  sw->add_option("--layers", o.layers, "expert layers")->capture_default_str();
  sw->add_option("--rounds", o.rounds, "switches each way")->capture_default_str();
  CLI::App* z = app.get_subcommand("zipf");
  z->add_option("--experts", o.experts)->capture_default_str();
  z->add_option("--budget-experts", o.budget_experts, "experts the RAM budget holds")->capture_default_str();
  z->add_option("--requests", o.requests)->capture_default_str();
  z->add_option("--concurrency", o.concurrency)->capture_default_str();
  z->add_option("--max-tokens", o.max_tokens)->capture_default_str();
  z->add_option("--zipf", o.zipf, "Zipf exponent s")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(o.dir);
  if (o.vocab.empty()) {  // as `strata gen-model`: Llama-2's vocabulary from the shared test data
    const char* env = std::getenv("STRATA_TESTDATA");
    o.vocab = std::string(env && *env ? env : STRATA_TESTDATA_DEFAULT) + "/tokenizer/llama2-vocab.gguf";
  }
  return app.got_subcommand("switch") ? strata::coe::Switch(o) : strata::coe::ZipfLoad(o);
}
