// `strata serve`: the OpenAI-compatible server over one model (or, with --coe, a Composition of Experts).
#include <csignal>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/parallel_launch.h"
#include "cli/serve_coe.h"
#include "cli/spec_options.h"
#include "core/log.h"
#include "engine/async_engine.h"
#include "server/connection_gate.h"
#include "server/http_server.h"

namespace strata::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string coe;  // a Composition of Experts config instead of one model
  std::string served_name;
  ServerConfig server;
  EngineConfig engine;
  int threads = 0;
  bool no_prefix_caching = false;
  CompileFlags compile;
  SpecFlags spec;
};

HttpServer* g_server = nullptr;  // for the signal handler only

void OnSignal(int) {
  if (g_server) g_server->Stop();
}

// The model's chat template with its special tokens (GGUF metadata, or a folder's tokenizer_config.json), parsed;
// null with a reason when absent or unsupported.
std::unique_ptr<ChatTemplate> LoadChatTemplate(const Model& model, std::string& why) {
  auto source = model.ChatTemplate();
  if (!source.ok()) {
    why = source.status().message();
    if (source.status().code() != Status::Code::kNotFound) spdlog::warn("chat completions disabled: {}", why);
    return nullptr;
  }
  auto parsed = ChatTemplate::FromSource(*source);
  if (!parsed.ok()) {
    why = "its chat template cannot be rendered: " + parsed.status().message();
    spdlog::warn("chat completions disabled: {}", why);
    return nullptr;
  }
  return std::make_unique<ChatTemplate>(std::move(*parsed));
}

int ServeOn(ServeOptions& o, const CompiledModel& compiled, ExecutorSource source, int threads) {
  o.engine.prefix_caching = !o.no_prefix_caching;
  auto engine = LlmEngine::Create(std::move(source), compiled.model->tokenizer(), o.engine);
  if (!engine.ok()) {
    spdlog::error("{}", engine.status().message());
    return 1;
  }
  AsyncEngine async(std::move(*engine));
  std::string why;
  auto tmpl = LoadChatTemplate(*compiled.model, why);
  o.server.model_name = o.served_name.empty() ? std::filesystem::path(o.model).filename().string() : o.served_name;
  // Each open connection is a descriptor: allow as many as the hard limit permits (the server clamps
  // --max-connections below what this leaves).
  const long open_files = RaiseOpenFileLimit();
  HttpServer server(o.server, async, std::move(tmpl), why);
  if (Status st = server.Bind(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  g_server = &server;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  spdlog::info("serving {} as \"{}\" on http://{}:{} ({} threads, max {} seqs, {} batched tokens{})", o.model,
               o.server.model_name, o.server.host, server.port(), threads, o.engine.scheduler.max_num_seqs,
               o.engine.scheduler.max_num_batched_tokens, o.server.api_key.empty() ? "" : ", API key required");
  spdlog::info("connections: at most {} open ({} per client address), open file limit {}",
               server.max_connections(), o.server.max_connections_per_client, open_files);
  if (o.server.webui) spdlog::info("web chat page: http://{}:{}/", o.server.host, server.port());
  server.Serve();
  g_server = nullptr;
  spdlog::info("server stopped");
  if (Status st = async.health(); !st.ok()) return 1;  // lost a rank: the job is ended, not finalised
  return 0;
}

// Alone, or as one rank of an mpirun job: rank 0 serves HTTP and schedules, the others run their shard.
int Serve(ServeOptions o) {
  if (o.model.empty() == o.coe.empty()) {
    spdlog::error("give one model (-m) or one Composition of Experts config (--coe)");
    return 2;
  }
  if (!o.coe.empty() && o.spec.enabled()) {
    spdlog::error("speculative decoding is not available with --coe");
    return 2;
  }
  if (!o.coe.empty()) {
    o.engine.prefix_caching = !o.no_prefix_caching;
    return ServeCoe(o.coe, o.server, o.engine, o.compile, o.threads);
  }
  return RunAsRank(o.model, o.compile, o.threads, [&](ParallelLaunch& launch, const CompiledModel& compiled, ThreadPool& pool) {
    ExecutorSource source{compiled.plan().kv.n_ctx, launch.KvBytesPerToken(compiled), launch.Factory(compiled, pool)};
    CompiledModel draft;  // outlives the engine, which ServeOn owns
    if (!PrepareSpec(o.spec, o.compile, pool, draft, o.engine.spec)) return 1;
    return ServeOn(o, compiled, std::move(source), pool.size());
  });
}

}  // namespace

void RegisterServe(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API");
  cmd->add_option("-m,--model", o->model, "GGUF model file or Hugging Face model folder")->check(CLI::ExistingPath);
  cmd->add_option("--coe", o->coe,
                  "serve a Composition of Experts: a YAML (or JSON) config of experts, RAM budget and router")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", o->server.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o->server.port, "port to listen on (0: any free port)")->capture_default_str();
  cmd->add_option("--api-key", o->server.api_key,
                  "require 'Authorization: Bearer KEY' on /v1 routes (/health stays open; /metrics too unless --protect-metrics)");
  cmd->add_flag("--protect-metrics", o->server.protect_metrics, "with --api-key, /metrics requires the key too");
  cmd->add_flag_callback("--no-webui", [o] { o->server.webui = false; }, "do not serve the web chat page at /");
  cmd->add_option("--served-model-name", o->served_name, "model id clients use (default: the file name)");
  cmd->add_option("--max-num-seqs", o->engine.scheduler.max_num_seqs, "sequences per step")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-num-batched-tokens", o->engine.scheduler.max_num_batched_tokens, "token budget per step")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--kv-cache-memory", o->engine.kv_cache_bytes, "KV cache size in bytes (default: max-num-seqs full contexts, at most 4 GiB)");
  cmd->add_option("--block-size", o->engine.block_size, "tokens per KV block")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-model-len", o->engine.max_model_len, "context length per request (default: the model's)");
  cmd->add_flag("--no-enable-prefix-caching", o->no_prefix_caching, "disable prefix caching");
  cmd->add_option_function<std::string>(
         "--pooling",
         [o](const std::string& name) {
           auto p = ParsePooling(name);
           if (!p.ok()) throw CLI::ValidationError("--pooling", p.status().message());
           o->server.embedding_pooling = *p;
         },
         "/v1/embeddings: mean of the final hidden states, or the last token's (default mean)")
      ->check(CLI::IsMember({"mean", "last"}));
  cmd->add_option("--embedding-max-tokens", o->engine.embedding_max_tokens,
                  "longest /v1/embeddings input and tokens per embeddings batch; its KV cache is made at the "
                  "first request (default: min(context, --max-num-batched-tokens))")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-request-bytes", o->server.max_body_bytes, "largest request body accepted (413 beyond)")->capture_default_str();
  cmd->add_option("--max-connections", o->server.max_connections,
                  "open connections in all; more get 503 (lowered to fit the open file limit)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-connections-per-client", o->server.max_connections_per_client,
                  "open connections per client IP address; more get 429")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--header-timeout", o->server.header_timeout_s,
                  "seconds for a request's headers to arrive, from their first byte (408 after)")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--body-timeout", o->server.body_timeout_s,
                  "seconds for a request's body to arrive, after its headers (408 after)")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("-t,--threads", o->threads, "compute threads (0: all cores)");
  AddCompileFlags(cmd, o->compile);
  AddSpecFlags(cmd, o->spec);
  cmd->callback([o, &exit_code] { exit_code = Serve(*o); });
}

}  // namespace strata::cli
