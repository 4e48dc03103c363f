// `strata router` as a command: its flags and its errors, and one request through it over a fake backend.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include "cli/cli_runner.h"
#include "router_harness.h"

namespace strata {
namespace {

using testing::Strata;

TEST(RouterCli, RejectsBadBackendsAndPolicies) {
  auto r = Strata("router --backend http://host --port 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected http://host:port"), std::string::npos) << r.err;
  r = Strata("router --backend 127.0.0.1:9 --policy random --port 0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("policy"), std::string::npos) << r.err;
  r = Strata("router --port 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no backends"), std::string::npos) << r.err;
  r = Strata("router --backends-file /nonexistent/backends.txt");
  EXPECT_NE(r.exit_code, 0);
}

TEST(RouterCli, ServesUntilSigterm) {
  testing::FakeBackend f;
  f.svr.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices":[{"text":"ok"}]})", "application/json");
  });
  f.Start();
  const std::string log = testing::ScratchDir() + "/router_cli.log";
  const std::string bin = testing::StrataBinary();
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* e = std::freopen(log.c_str(), "w", stderr);
    (void)e;
    execl(bin.c_str(), "strata", "router", "--backend", f.url().c_str(), "--port", "0", "--policy", "prefix-affinity",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = -1;
  testing::WaitFor([&] {
    std::smatch m;
    const std::string text = testing::ReadFile(log);
    if (std::regex_search(text, m, std::regex("routing on http://[^:]+:([0-9]+) \\(1 backends, 1 healthy, policy prefix-affinity")))
      port = std::stoi(m[1]);
    return port > 0;
  });
  if (port <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "the router did not start:\n" << testing::ReadFile(log);
  }
  httplib::Client c("127.0.0.1", port);
  auto res = c.Post("/v1/completions", R"({"prompt":"hi"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"choices":[{"text":"ok"}]})");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::ReadFile(log);
}

}  // namespace
}  // namespace strata
