// A real `strata serve` process under abusive requests: it must stay up, answer a normal request after each,
// and keep its memory bounded. The bound is checked on the process's VmRSS (/proc/PID/status) rather than
// enforced with a limit: prlimit --as/--data counts the virtual 8 MB stacks of hundreds of HTTP threads, and the
// memory cgroup here belongs to the sandbox. STRATA_SERVE_BINARY overrides the binary under test (to show that
// an older build fails).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "deep_schema_body.h"
#include "testdata.h"

namespace strata::testing {
namespace {

using nlohmann::json;

constexpr int64_t kAllowedGrowthKb = 300 * 1024;  // over the RSS after the first normal request

// `strata serve` as a child process, stderr to a file (the log names the port).
class ServeProcess {
 public:
  static std::string Binary() {
    const char* env = std::getenv("STRATA_SERVE_BINARY");
    return env ? env : STRATA_BINARY;
  }
  explicit ServeProcess(const std::string& model) {
    const std::string binary = Binary();
    char tmpl[] = "/tmp/strata_serve_log_XXXXXX";
    const int fd = mkstemp(tmpl);
    log_ = tmpl;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fd, 2);
      execl(binary.c_str(), binary.c_str(), "serve", "-m", model.c_str(), "--port", "0", "-t", "2",
            "--max-model-len", "256", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fd);
  }
  ~ServeProcess() {
    if (pid_ > 0 && alive()) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    unlink(log_.c_str());
  }
  bool alive() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  // The port from the "... on http://HOST:PORT (..." line, waiting up to a minute for the model to load.
  int WaitForPort() const {
    const std::regex line(R"( on http://[^:]*:(\d+) )");
    for (int i = 0; i < 600 && alive(); ++i) {
      std::ifstream f(log_);
      std::stringstream text;
      text << f.rdbuf();
      std::smatch m;
      const std::string s = text.str();
      if (std::regex_search(s, m, line)) return std::stoi(m[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  int64_t RssKb() const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    while (f >> key) {
      if (key == "VmRSS:") {
        int64_t kb = -1;
        f >> kb;
        return kb;
      }
      f.ignore(1 << 16, '\n');
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

TEST(ServerResource, AbusiveRequestsKeepTheServerUpAndItsMemoryBounded) {
  STRATA_REQUIRE_TESTDATA();
  if (access(ServeProcess::Binary().c_str(), X_OK) != 0) GTEST_SKIP() << ServeProcess::Binary() << " is not built";
  ServeProcess server(TestDataPath("models/tiny-llama-q8_0.gguf"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << "strata serve did not start";
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);
  auto post = [&](const std::string& body) {
    auto r = c.Post("/v1/completions", body, "application/json");
    return r ? r->status : -1;
  };
  const std::string normal = json{{"prompt", "Once"}, {"max_tokens", 2}}.dump();
  ASSERT_EQ(post(normal), 200);
  const int64_t baseline = server.RssKb();
  ASSERT_GT(baseline, 0);

  json many_keys = {{"prompt", "x"}, {"logit_bias", json::object()}};
  for (int i = 0; i < 100000; ++i) many_keys["logit_bias"][std::to_string(i)] = 0;
  const std::string deep = DeepSchemaBody(50000);
  const std::string abusive[] = {
      deep,
      many_keys.dump(),
      R"({"prompt":)" + std::string(500000, '[') + "1" + std::string(500000, ']') + "}",
      R"({"prompt":[4294967301],"max_tokens":2})",
      R"({"prompt":"x","max_tokens":9223372036854775808})",
      R"({"prompt":"x","response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"#"}}}})",
  };
  int64_t peak = baseline;
  for (int round = 0; round < 20; ++round) {
    for (size_t i = 0; i < std::size(abusive); ++i) {
      if (round > 0 && i > 0) continue;  // the deep schema 20 times, the others once
      const auto t0 = std::chrono::steady_clock::now();
      const int status = post(abusive[i]);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ASSERT_TRUE(server.alive()) << "the server died on abusive request " << i;
      EXPECT_EQ(status, 400) << "abusive request " << i;
      ASSERT_EQ(post(normal), 200) << "after abusive request " << i;
      const int64_t rss = server.RssKb();
      peak = std::max(peak, rss);
      if (round == 0 || round == 19)
        std::printf("round %d request %zu: status %d, %.3f s, RSS %lld kB (baseline %lld kB)\n", round, i, status,
                    seconds, static_cast<long long>(rss), static_cast<long long>(baseline));
      ASSERT_LE(rss, baseline + kAllowedGrowthKb)
          << "RSS grew from " << baseline << " kB to " << rss << " kB after abusive request " << i << " (round " << round << ")";
    }
  }
  std::printf("peak RSS %lld kB, baseline %lld kB\n", static_cast<long long>(peak), static_cast<long long>(baseline));
}

}  // namespace
}  // namespace strata::testing
