// `strata bench serve`: drives a running OpenAI-compatible server (ours or any other) with streaming
// completions at several concurrency levels and prints throughput and TTFT / TPOT percentiles.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/log.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key;
  std::string model;
  std::vector<int> concurrency = {1, 4, 16};
  int requests_per_level = 0;  // 0: 4 x concurrency, at least 8
  int max_tokens = 64;
};

struct Sample {
  bool ok = false;
  double ttft = 0, tpot = 0;
  int64_t tokens = 0;
  std::string error;
};

const char* kPrompts[] = {"Once upon a time", "The little dog", "One day, a girl named Lily",
                          "Tom and his friend went to the park", "The sun was shining and"};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One streamed completion; token count from the usage chunk, timing from the content chunks.
Sample RunOne(const BenchOptions& o, int index) {
  httplib::Client cli(o.host, o.port);
  cli.set_read_timeout(600, 0);
  json body = {{"prompt", kPrompts[index % 5]}, {"max_tokens", o.max_tokens}, {"temperature", 0},
               {"ignore_eos", true}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  if (!o.model.empty()) body["model"] = o.model;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  if (!o.api_key.empty()) req.set_header("Authorization", "Bearer " + o.api_key);
  Sample s;
  const auto start = Clock::now();
  Clock::time_point first{}, last{};
  int64_t chunks = 0;
  std::string buffer;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    for (size_t pos; (pos = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, pos + 2)) {
      const std::string event = buffer.substr(0, pos);
      if (!event.starts_with("data: ") || event == "data: [DONE]") continue;
      json j = json::parse(event.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      // Another server's reply may carry anything here: read the count only when it is an integer.
      if (j.contains("usage") && j["usage"].is_object() && j["usage"].value("completion_tokens", json()).is_number_integer())
        s.tokens = j["usage"]["completion_tokens"].get<int64_t>();
      if (j.contains("choices") && !j["choices"].empty()) {
        last = Clock::now();
        if (chunks++ == 0) first = last;
      }
    }
    return true;
  };
  auto res = cli.send(req);
  s.ok = res && res->status == 200 && chunks > 0;
  if (!s.ok) s.error = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
  s.ttft = Seconds(first - start);
  s.tpot = s.tokens > 1 ? Seconds(last - first) / static_cast<double>(s.tokens - 1) : 0;
  return s;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

void RunLevel(const BenchOptions& o, int conc) {
  const int total = o.requests_per_level > 0 ? o.requests_per_level : std::max(8, 4 * conc);
  std::vector<Sample> samples(static_cast<size_t>(total));
  std::atomic<int> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < conc; ++w)
    workers.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < total;) samples[static_cast<size_t>(i)] = RunOne(o, i);
    });
  for (auto& t : workers) t.join();
  const double wall = Seconds(Clock::now() - start);
  std::vector<double> ttft, tpot;
  int64_t tokens = 0;
  int failed = 0;
  for (const Sample& s : samples) {
    if (!s.ok) {
      if (failed++ == 0) spdlog::warn("request failed: {}", s.error);
      continue;
    }
    ttft.push_back(s.ttft * 1e3);
    tpot.push_back(s.tpot * 1e3);
    tokens += s.tokens;
  }
  std::printf("%11d %8d %6d %10.1f %9.1f %9.1f %9.2f %9.2f\n", conc, total, failed,
              static_cast<double>(tokens) / wall, Percentile(ttft, 0.5), Percentile(ttft, 0.99),
              Percentile(tpot, 0.5), Percentile(tpot, 0.99));
  std::fflush(stdout);
}

int BenchServe(const BenchOptions& o) {
  httplib::Client probe(o.host, o.port);
  auto health = probe.Get("/health");
  if (!health || health->status != 200) {
    spdlog::error("no server answering GET /health at {}:{}", o.host, o.port);
    return 1;
  }
  std::printf("# %d generated tokens per request (ignore_eos), streaming /v1/completions at %s:%d\n", o.max_tokens,
              o.host.c_str(), o.port);
  std::printf("%11s %8s %6s %10s %9s %9s %9s %9s\n", "concurrency", "requests", "failed", "gen tok/s",
              "ttft p50", "ttft p99", "tpot p50", "tpot p99");
  std::printf("%11s %8s %6s %10s %9s %9s %9s %9s\n", "", "", "", "", "ms", "ms", "ms", "ms");
  for (int c : o.concurrency) {
    spdlog::info("concurrency {}...", c);
    RunLevel(o, c);
  }
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, int& exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmark a model (-m FILE) or a running server (serve)");
  bench->require_subcommand(0, 1);
  AddBenchModel(bench, exit_code);
  auto o = std::make_shared<BenchOptions>();
  CLI::App* serve = bench->add_subcommand("serve", "Load a running server: throughput, TTFT and TPOT per concurrency");
  serve->add_option("--host", o->host)->capture_default_str();
  serve->add_option("--port", o->port)->capture_default_str();
  serve->add_option("--api-key", o->api_key);
  serve->add_option("--model", o->model, "model id to send (default: none, the server's own)");
  serve->add_option("--concurrency", o->concurrency, "concurrency levels")->delimiter(',')->capture_default_str();
  serve->add_option("--requests", o->requests_per_level, "requests per level (default: 4 x concurrency, at least 8)");
  serve->add_option("--max-tokens", o->max_tokens, "tokens generated per request")->capture_default_str();
  serve->callback([o, &exit_code] { exit_code = BenchServe(*o); });
}

}  // namespace strata::cli
