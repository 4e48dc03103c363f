// `strata chat`: a conversation with a model in the terminal. On a terminal, GNU readline edits the line and
// keeps the history; Ctrl-C stops the answer being written (at the prompt it clears the line), Ctrl-D or /exit
// leaves. With stdin not a terminal, each line is one message and each answer is printed on its own line, so a
// script can drive it. The conversation lives in a ChatSession (prefix reuse, dropping of old turns).
#include <readline/history.h>
#include <readline/readline.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cli/chat_session.h"
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/parallel_launch.h"
#include "core/log.h"

namespace strata::cli {
namespace {

struct ChatCliOptions {
  std::string model;
  int threads = 0;
  int64_t ctx = 0;
  std::optional<uint64_t> seed;
  bool no_prefix_reuse = false;
  ChatOptions chat;
  CompileFlags compile;
};

// ChatML, what llama.cpp falls back to for a model without a chat template.
constexpr const char* kChatMl =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

constexpr const char* kHelp =
    "  /exit, /quit   leave (Ctrl-D too)\n"
    "  /reset         start a new conversation (the system prompt stays)\n"
    "  /save FILE     write the conversation as OpenAI-style JSON messages\n"
    "  /load FILE     continue a saved conversation\n"
    "  /stats         speed of the last answer, tokens reused from the cache, context used\n"
    "  /help          this list\n"
    "  Ctrl-C stops an answer; a line ending in \\ continues on the next line.\n";

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true); }

// SIGINT without SA_RESTART, so a blocked select() or read() returns and the loop sees the flag.
void CatchInterrupt() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

// One line from readline's callback interface, which (unlike readline()) lets Ctrl-C at the prompt clear the
// line instead of ending the program (`interrupted` then says so, and the line is ""). nullopt at Ctrl-D.
std::optional<std::string> ReadTerminalLine(const char* prompt, bool& interrupted) {
  interrupted = false;
  static std::optional<std::string> line;
  static bool done;
  line.reset();
  done = false;
  rl_callback_handler_install(prompt, [](char* text) {
    if (text) line = text, std::free(text);
    done = true;
    rl_callback_handler_remove();
  });
  while (!done) {
    // A Ctrl-C that came while readline was handling a key (not in select) is seen here.
    if (g_interrupted.exchange(false)) {
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_replace_line("", 0);
      rl_crlf();
      std::fputs("(Ctrl-D or /exit leaves)\n", stderr);
      rl_callback_handler_remove();
      interrupted = true;
      return std::string();
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(STDIN_FILENO, &fds);
    const int r = select(STDIN_FILENO + 1, &fds, nullptr, nullptr, nullptr);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rl_callback_handler_remove();
      return std::nullopt;
    }
    rl_callback_read_char();
  }
  return line;
}

std::optional<std::string> ReadPipedLine() {
  char* buf = nullptr;
  size_t cap = 0;
  const ssize_t n = getline(&buf, &cap, stdin);
  std::optional<std::string> out;
  if (n >= 0) {
    out.emplace(buf, static_cast<size_t>(n));
    while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  }
  std::free(buf);
  return out;
}

// A message: on a terminal, lines ending in a backslash continue it.
std::optional<std::string> ReadMessage(bool tty) {
  if (!tty) return ReadPipedLine();
  std::string message;
  const char* prompt = "> ";
  while (true) {
    bool interrupted = false;
    auto line = ReadTerminalLine(prompt, interrupted);
    if (interrupted) {  // the whole message goes, lines continued before included
      message.clear();
      prompt = "> ";
      continue;
    }
    if (!line) return message.empty() ? std::nullopt : std::optional(message);
    if (line->empty() || line->back() != '\\') {
      message += *line;
      break;
    }
    line->pop_back();
    message += *line + "\n";
    prompt = "... ";
  }
  if (!message.empty()) add_history(message.c_str());
  return message;
}

void PrintStats(const ChatSession& s) {
  const TurnStats& t = s.last();
  std::printf("last answer: %lld tokens in %.3f s (%.1f tok/s), first token after %.3f s%s\n",
              static_cast<long long>(t.generated), t.decode_s,
              t.generated > 1 && t.decode_s > 0 ? (t.generated - 1) / t.decode_s : 0.0, t.first_token_s,
              t.interrupted ? ", stopped" : "");
  std::printf("prompt: %lld tokens, %lld reused from the cache, %lld processed in %.3f s\n",
              static_cast<long long>(t.prompt_tokens), static_cast<long long>(t.reused_tokens),
              static_cast<long long>(t.prefill_tokens), t.prefill_s);
  std::printf("context: %lld of %lld tokens used, %zu messages\n", static_cast<long long>(s.context_used()),
              static_cast<long long>(s.context_size()), s.messages().size());
  std::fflush(stdout);
}

// A /command; false when it asks to leave.
bool Command(ChatSession& session, const std::string& line) {
  const size_t space = line.find(' ');
  const std::string cmd = line.substr(0, space);
  std::string arg;
  if (const size_t from = line.find_first_not_of(' ', space == std::string::npos ? line.size() : space);
      from != std::string::npos)
    arg = line.substr(from, line.find_last_not_of(' ') + 1 - from);
  auto report = [](const Status& st, const std::string& done) {
    if (st.ok()) std::printf("%s\n", done.c_str());
    else std::fprintf(stderr, "error: %s\n", st.message().c_str());
    std::fflush(stdout);
  };
  if (cmd == "/exit" || cmd == "/quit") return false;
  if (cmd == "/reset") {
    session.Reset();
    std::printf("[new conversation]\n");
  } else if (cmd == "/stats") {
    PrintStats(session);
  } else if ((cmd == "/save" || cmd == "/load") && arg.empty()) {
    std::fprintf(stderr, "error: %s needs a file name\n", cmd.c_str());
  } else if (cmd == "/save") {
    report(session.Save(arg), "[saved " + std::to_string(session.messages().size()) + " messages to " + arg + "]");
  } else if (cmd == "/load") {
    const Status st = session.Load(arg);
    report(st, "[loaded " + std::to_string(session.messages().size()) + " messages from " + arg + "]");
  } else {
    if (cmd != "/help") std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
    std::fputs(kHelp, stdout);
  }
  std::fflush(stdout);
  return true;
}

void Answer(ChatSession& session, const std::string& message, bool tty) {
  g_interrupted.store(false);
  auto out = [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  };
  auto notice = [](std::string_view s) { std::fprintf(stderr, "%.*s\n", static_cast<int>(s.size()), s.data()); };
  auto turn = session.Turn(message, out, notice, g_interrupted);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!turn.ok()) std::fprintf(stderr, "error: %s\n", turn.status().message().c_str());
  else if (turn->interrupted && tty) std::fputs("[stopped]\n", stderr);
  g_interrupted.store(false);
}

Result<ChatTemplate> TemplateFor(const Model& model) {
  auto source = model.ChatTemplate();
  if (source.ok()) return ChatTemplate::FromSource(*source);
  spdlog::warn("{}: using ChatML", source.status().message());
  return ChatTemplate::Parse(kChatMl);
}

int Chat(ChatCliOptions& o, const CompiledModel& compiled, CpuExecutor& exec) {
  auto tmpl = TemplateFor(*compiled.model);
  if (!tmpl.ok()) {
    spdlog::error("the chat template: {}", tmpl.status().message());
    return 1;
  }
  o.chat.prefix_reuse = !o.no_prefix_reuse;
  o.chat.sampling.seed = o.seed;
  if (Status st = ValidateSamplingParams(o.chat.sampling); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  ChatSession session(exec, compiled.model->tokenizer(), *tmpl, o.chat);
  const bool tty = isatty(STDIN_FILENO);
  if (tty) {
    rl_catch_signals = 0;  // our handler: Ctrl-C must stop an answer, not end the program
    std::fprintf(stderr, "Chatting with %s (context %lld tokens). /help lists commands; Ctrl-C stops an answer, "
                 "Ctrl-D or /exit leaves.\n", o.model.c_str(), static_cast<long long>(exec.n_ctx()));
  }
  CatchInterrupt();
  while (auto message = ReadMessage(tty)) {
    if (message->empty()) continue;
    if ((*message)[0] == '/') {
      if (!Command(session, *message)) break;
      continue;
    }
    Answer(session, *message, tty);
  }
  if (tty) std::fputc('\n', stderr);
  return 0;
}

}  // namespace

void RegisterChat(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ChatCliOptions>();
  SamplingParams& s = o->chat.sampling;
  s = {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f};  // llama-cli's defaults
  CLI::App* cmd = app.add_subcommand("chat", "Chat with a model in the terminal (one message per line from a pipe)");
  cmd->add_option("-m,--model", o->model, "GGUF model file or Hugging Face model folder")->required();
  cmd->add_option("--system", o->chat.system, "system prompt");
  cmd->add_option_function<std::string>(
      "--chat-template-kwargs",
      [o](const std::string& text) {
        auto vars = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!vars.is_object()) throw CLI::ValidationError("--chat-template-kwargs", "expected a JSON object");
        o->chat.template_vars = std::move(vars);
      },
      "extra chat template variables as a JSON object, e.g. '{\"enable_thinking\": false}'");
  cmd->add_option("-n,--n-predict", o->chat.max_tokens, "most tokens an answer may have (-1: until it ends)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "compute threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", o->ctx, "context length (0: the model's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-size", o->chat.batch, "prompt tokens per forward step")->check(CLI::PositiveNumber);
  cmd->add_option("--temp", s.temperature, "sampling temperature (0: greedy)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", s.top_k, "keep the k most likely tokens (0: all)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", s.top_p, "nucleus sampling threshold")->capture_default_str()->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--min-p", s.min_p, "drop tokens below min-p times the top probability")->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--repeat-penalty", s.repetition_penalty, "repetition penalty (1: off)");
  cmd->add_option("--seed", o->seed, "random seed for sampling (default: a random one)");
  cmd->add_flag("--ignore-eos", o->chat.ignore_eos, "answers do not end at the end-of-turn token");
  cmd->add_flag("--no-prefix-reuse", o->no_prefix_reuse,
                "run the whole conversation again every turn instead of reusing the cached prefix");
  AddCompileFlags(cmd, o->compile);
  cmd->callback([o, &exit_code] {
    exit_code = RunAsRank(o->model, o->compile, o->threads,
                          [&](ParallelLaunch& launch, const CompiledModel& compiled, ThreadPool& pool) {
                            CpuExecutor exec(launch.Factory(compiled, pool),
                                             o->ctx > 0 ? o->ctx : compiled.plan().kv.n_ctx);
                            return Chat(*o, compiled, exec);
                          });
  });
}

}  // namespace strata::cli
