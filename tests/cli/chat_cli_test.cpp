// `strata chat` through the binary: from a pipe (one message a line) and on a real terminal (tmux). Prefix
// reuse must not change an answer (greedy answers with and without it are equal) while it runs fewer prompt
// tokens; /save then /load continues the same conversation; an overflowing conversation drops its oldest turns
// with a notice; on a terminal, Ctrl-C stops an answer and the chat goes on, Ctrl-D leaves.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "testdata.h"

namespace strata::testing {
namespace chat_cli_test {  // named: the tests are unity-built with others that have helpers of the same names

bool Contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// `strata chat` over the tiny model, greedy, with `input` piped in.
CommandResult PipedChat(const std::string& input, const std::string& flags = "") {
  const std::string in = ScratchDir() + "/chat-input.txt";
  std::ofstream(in, std::ios::trunc) << input;
  return Strata("chat -m " + Quote(Model("q8_0")) + " --temp 0 -t 2 -n 24 " + flags + " < " + Quote(in));
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(s.substr(start, nl - start));
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

struct PromptStats {
  long prompt = -1, reused = -1, processed = -1;
};

// Every "prompt: N tokens, R reused from the cache, P processed" line of /stats, in order.
std::vector<PromptStats> StatsOf(const std::string& out) {
  static const std::regex re(R"(prompt: (\d+) tokens, (\d+) reused from the cache, (\d+) processed)");
  std::vector<PromptStats> all;
  for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it)
    all.push_back({std::stol((*it)[1]), std::stol((*it)[2]), std::stol((*it)[3])});
  return all;
}

TEST(ChatPiped, SecondTurnReusesThePrefixAndAnswersTheSame) {
  STRATA_REQUIRE_TESTDATA();
  const std::string talk = "Hello there\n/stats\nTell me a story\n/stats\nAnd then?\n/stats\n";
  const auto reuse = PipedChat(talk);
  const auto full = PipedChat(talk, "--no-prefix-reuse");
  ASSERT_EQ(reuse.exit_code, 0) << reuse.err;
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // The answers are the lines before each "last answer:" line: greedy, so reuse must not change them.
  auto answers = [](const std::string& out) {
    std::vector<std::string> a;
    const auto lines = Lines(out);
    for (size_t i = 1; i < lines.size(); ++i)
      if (lines[i].starts_with("last answer:")) a.push_back(lines[i - 1]);
    return a;
  };
  ASSERT_EQ(answers(reuse.out).size(), 3u) << reuse.out;
  EXPECT_EQ(answers(reuse.out), answers(full.out)) << reuse.out << "\n---\n" << full.out;
  EXPECT_FALSE(answers(reuse.out)[0].empty());

  const auto with = StatsOf(reuse.out), without = StatsOf(full.out);
  ASSERT_EQ(with.size(), 3u) << reuse.out;
  ASSERT_EQ(without.size(), 3u) << full.out;
  for (size_t turn = 0; turn < 3; ++turn) {
    EXPECT_EQ(with[turn].prompt, without[turn].prompt) << "turn " << turn;
    EXPECT_EQ(without[turn].reused, 0) << "turn " << turn;
    EXPECT_EQ(without[turn].processed, without[turn].prompt) << "turn " << turn;
    EXPECT_EQ(with[turn].reused + with[turn].processed, with[turn].prompt) << "turn " << turn;
  }
  // Turn 2 finds turn 1 (its prompt and most of its answer) in the cache and runs little more than the message.
  for (size_t turn = 1; turn < 3; ++turn) {
    EXPECT_GT(with[turn].reused, with[turn - 1].prompt) << reuse.out;
    EXPECT_LT(with[turn].processed, with[turn].prompt - with[turn - 1].prompt + 8) << reuse.out;
  }
}

TEST(ChatPiped, SaveThenLoadContinuesTheConversation) {
  STRATA_REQUIRE_TESTDATA();
  const std::string file = ScratchDir() + "/chat-saved.json";
  std::filesystem::remove(file);
  const auto first = PipedChat("Hello there\nTell me a story\n/stats \n/save " + file + "  \n");  // spaces after
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(Contains(first.out, "[saved 4 messages")) << first.out;
  const auto saved = nlohmann::json::parse(ReadFile(file));
  ASSERT_TRUE(saved.is_array());
  ASSERT_EQ(saved.size(), 4u);
  const auto lines = Lines(first.out);
  EXPECT_EQ(saved[0]["role"], "user");
  EXPECT_EQ(saved[0]["content"], "Hello there");
  EXPECT_EQ(saved[1]["role"], "assistant");
  EXPECT_EQ(saved[1]["content"], lines[0]);
  EXPECT_EQ(saved[3]["content"], lines[1]);

  // A new process that loads it answers the third message as the one that had the whole conversation; /reset
  // before it forgets the conversation.
  const auto whole = PipedChat("Hello there\nTell me a story\nAnd then?\n");
  const auto loaded = PipedChat("/load " + file + "\n/stats\nAnd then?\n");
  const auto reset = PipedChat("/load " + file + "\n/reset\n/stats\nAnd then?\n");
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_TRUE(Contains(loaded.out, "[loaded 4 messages")) << loaded.out;
  EXPECT_TRUE(Contains(loaded.out, "4 messages\n")) << loaded.out;
  EXPECT_EQ(Lines(loaded.out).back(), Lines(whole.out)[2]) << loaded.out << "\n---\n" << whole.out;
  EXPECT_TRUE(Contains(reset.out, "[new conversation]")) << reset.out;
  EXPECT_TRUE(Contains(reset.out, "0 messages\n")) << reset.out;
  EXPECT_EQ(Lines(reset.out).back(), Lines(PipedChat("And then?\n").out)[0]);

  const auto bad = PipedChat("/load /no/such/file.json\nHello there\n");
  EXPECT_TRUE(Contains(bad.err, "/no/such/file.json")) << bad.err;
  EXPECT_EQ(Lines(bad.out).size(), 1u) << "the chat goes on after a failed /load:\n" << bad.out;

  // A conversation that ends with the user's message is refused (the next message would be a second one).
  const std::string open_ended = ScratchDir() + "/chat-open.json";
  std::ofstream(open_ended, std::ios::trunc) << R"([{"role": "user", "content": "Hi"}])";
  const auto refused = PipedChat("/load " + open_ended + "\n/stats\n");
  EXPECT_TRUE(Contains(refused.err, "ends with a user message")) << refused.err;
  EXPECT_TRUE(Contains(refused.out, "0 messages")) << refused.out;
}

TEST(ChatPiped, SaveKeepsInvalidUtf8AsReplacementCharacters) {
  STRATA_REQUIRE_TESTDATA();
  const std::string file = ScratchDir() + "/chat-utf8.json";
  std::filesystem::remove(file);
  const auto r = PipedChat("caf\xe9\n/save " + file + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto saved = nlohmann::json::parse(ReadFile(file));
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0]["content"], "caf\xEF\xBF\xBD");
}

TEST(ChatPiped, OverflowDropsTheOldestTurnsVisibly) {
  STRATA_REQUIRE_TESTDATA();
  // The tiny model has 256 positions: a few turns of 24-token answers overflow it.
  const auto r = PipedChat("Hello there\nTell me a story\nmore please\nand more\nyet more\nand again\n/stats\n" +
                           std::string(1200, 'a') + "\nstill here?\n");
  EXPECT_TRUE(Contains(r.err, "[context full: dropped the")) << r.err;
  EXPECT_TRUE(Contains(r.err, "error: the message is")) << r.err;
  const auto stats = StatsOf(r.out);
  ASSERT_EQ(stats.size(), 1u) << r.out;
  EXPECT_LE(stats[0].prompt + 24, 256);
  // After the message that could never fit, the next one is still answered.
  EXPECT_EQ(Lines(r.out).size(), 6u + 3u + 2u) << r.out;  // six answers, /stats, the error's empty line, one answer
}

TEST(ChatPiped, TemplateKwargsReachTheTemplate) {
  STRATA_REQUIRE_TESTDATA();
  // Qwen3's template writes an empty <think></think> block into the generation prompt when enable_thinking is
  // false: four more prompt tokens.
  const std::string model = ScratchDir() + "/chat-qwen3.gguf";
  const auto gen = Strata("gen-model --shape qwen3-tiny --dtype q8_0 -t 2 -o " + Quote(model) + " --vocab " +
                          Quote(TestDataPath("tokenizer-hf/qwen3/vocab.gguf")));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string in = ScratchDir() + "/chat-kwargs.txt";
  std::ofstream(in, std::ios::trunc) << "Hello\n/stats\n";
  auto prompt_tokens = [&](const std::string& kwargs) {
    const auto r = Strata("chat -m " + Quote(model) + " --temp 0 -n 2 -t 2 --chat-template-kwargs " + Quote(kwargs) +
                          " < " + Quote(in));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto stats = StatsOf(r.out);
    return stats.size() == 1 ? stats[0].prompt : -1;
  };
  const long thinking = prompt_tokens(R"({"enable_thinking": true})");
  EXPECT_GT(thinking, 0);
  EXPECT_EQ(prompt_tokens(R"({"enable_thinking": false})"), thinking + 4);
  EXPECT_NE(Strata("chat -m " + Quote(model) + " --chat-template-kwargs '[1]' < " + Quote(in)).exit_code, 0);
}

// A private tmux server running one command in a pane 160 columns wide; the pane stays after the command ends.
class Tmux {
 public:
  explicit Tmux(const std::string& command)
      : socket_("strata-chat-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)) {
    Run("-f /dev/null new-session -d -x 160 -y 50 " + Quote(command));
    Run("set-option -g remain-on-exit on");
    Run("set-option -g history-limit 100000");
  }
  ~Tmux() { Run("kill-server"); }

  void Keys(const std::string& keys) { Run("send-keys -t 0 " + keys); }
  void Type(const std::string& text) { Run("send-keys -t 0 -l " + Quote(text)); }
  // The pane's history and screen, without the blank rows below the cursor (and so without the space after a
  // prompt: the last line of a waiting chat is ">").
  std::string Screen() {
    std::string s = Shell(Prefix() + "capture-pane -p -J -S - -t 0").out;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
  }
  bool Dead() { return Shell(Prefix() + "display-message -p -t 0 '#{pane_dead}'").out.starts_with("1"); }
  // Polls until `done` holds of the screen; false after a minute (a hang, not a timing assertion).
  bool WaitFor(const std::function<bool(const std::string&)>& done) {
    for (int i = 0; i < 1200; ++i) {
      if (done(Screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::string Prefix() const { return "tmux -L " + socket_ + " "; }
  void Run(const std::string& args) { Shell(Prefix() + args); }
  static inline int counter_ = 0;
  std::string socket_;
};

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// The text after the last prompt line that holds `message`.
std::string After(const std::string& screen, const std::string& message) {
  const size_t at = screen.rfind("> " + message);
  return at == std::string::npos ? "" : screen.substr(at + 2 + message.size());
}

TEST(ChatTerminal, CtrlCStopsTheAnswerAndTheChatGoesOn) {
  STRATA_REQUIRE_TESTDATA();
  if (Shell("command -v tmux").exit_code != 0) GTEST_SKIP() << "tmux not installed (scripts/setup.sh installs it)";
  // A model slow enough to interrupt: the Llama-3.2-1B shape with one layer (random weights, no chat template:
  // ChatML), answers that go on until the context of 8192 tokens is full.
  const std::string model = ScratchDir() + "/chat-slow.gguf";
  const auto gen = Strata("gen-model --shape llama-1b --layers 1 --ctx 8192 --dtype q4_0 --seed 1 -t 2 -o " +
                          Quote(model) + " --vocab " + Quote(TestDataPath("tokenizer/llama2-vocab.gguf")));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  Tmux tmux(StrataBinary() + " chat -m " + model + " --temp 0 -t 2 --ignore-eos");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("/exit leaves.\n>"); }))
      << tmux.Screen();

  // Ctrl-C at the prompt clears the line and keeps the chat.
  tmux.Type("half a line");
  tmux.Keys("C-c");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("(Ctrl-D or /exit leaves)\n>"); }))
      << tmux.Screen();

  tmux.Type("Hello");
  tmux.Keys("Enter");
  // Some of the answer has appeared; Ctrl-C ends it there.
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return After(s, "Hello").size() > 40; })) << tmux.Screen();
  tmux.Keys("C-c");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return After(s, "Hello").ends_with("[stopped]\n>"); }))
      << tmux.Screen();
  tmux.Type("/stats");
  tmux.Keys("Enter");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return After(s, "/stats").ends_with("messages\n>"); }))
      << tmux.Screen();
  const std::string stats = After(tmux.Screen(), "/stats");
  EXPECT_TRUE(Contains(stats, ", stopped")) << stats;
  EXPECT_TRUE(Contains(stats, "2 messages")) << stats;  // the stopped answer is kept
  EXPECT_FALSE(Contains(stats, "context: 8192 of 8192")) << stats;

  // /reset, then Ctrl-D leaves.
  tmux.Type("/reset");
  tmux.Keys("Enter");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("[new conversation]\n>"); })) << tmux.Screen();
  tmux.Keys("C-d");
  ASSERT_TRUE(tmux.WaitFor([&](const std::string&) { return tmux.Dead(); })) << tmux.Screen();
  EXPECT_EQ(Count(tmux.Screen(), "[stopped]"), 1u);
}

TEST(ChatTerminal, TwoTurnsSaveLoadAndExit) {
  STRATA_REQUIRE_TESTDATA();
  if (Shell("command -v tmux").exit_code != 0) GTEST_SKIP() << "tmux not installed (scripts/setup.sh installs it)";
  const std::string file = ScratchDir() + "/chat-terminal.json";
  std::filesystem::remove(file);
  Tmux tmux(StrataBinary() + " chat -m " + Model("q8_0") + " --temp 0 -t 2 -n 16");
  auto say = [&](const std::string& line) {
    tmux.Type(line);
    tmux.Keys("Enter");
    return tmux.WaitFor([&](const std::string& s) {
      const std::string after = After(s, line);
      return after.ends_with("\n>");
    });
  };
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("/exit leaves.\n>"); })) << tmux.Screen();
  // Ctrl-C on a continued line drops the whole message, its first line too.
  tmux.Type("a first line\\");
  tmux.Keys("Enter");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("\n..."); })) << tmux.Screen();
  tmux.Type("and more");
  tmux.Keys("C-c");
  ASSERT_TRUE(tmux.WaitFor([](const std::string& s) { return s.ends_with("(Ctrl-D or /exit leaves)\n>"); }))
      << tmux.Screen();
  ASSERT_TRUE(say("/stats")) << tmux.Screen();
  EXPECT_TRUE(Contains(After(tmux.Screen(), "/stats"), "0 messages")) << tmux.Screen();
  ASSERT_TRUE(say("Hello there")) << tmux.Screen();
  ASSERT_TRUE(say("Tell me a story")) << tmux.Screen();
  ASSERT_TRUE(say("/stats")) << tmux.Screen();
  const auto stats = StatsOf(After(tmux.Screen(), "/stats"));
  ASSERT_EQ(stats.size(), 1u) << tmux.Screen();
  EXPECT_GT(stats[0].reused, 0) << tmux.Screen();
  ASSERT_TRUE(say("/save " + file)) << tmux.Screen();
  ASSERT_TRUE(say("/reset")) << tmux.Screen();
  ASSERT_TRUE(say("/load " + file)) << tmux.Screen();
  EXPECT_TRUE(Contains(After(tmux.Screen(), "/load " + file), "[loaded 4 messages")) << tmux.Screen();
  const auto saved = nlohmann::json::parse(ReadFile(file));
  ASSERT_EQ(saved.size(), 4u);
  EXPECT_EQ(saved[2]["content"], "Tell me a story");
  tmux.Type("/exit");
  tmux.Keys("Enter");
  ASSERT_TRUE(tmux.WaitFor([&](const std::string&) { return tmux.Dead(); })) << tmux.Screen();
}

}  // namespace chat_cli_test
}  // namespace strata::testing
