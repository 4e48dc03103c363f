// The serving engine under the profiler: each request's queued, prefill and decode phases as async spans in
// order, the scheduler and the sampler on the host track, steps with their ops on the compute track.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <string>
#include <vector>

#include "local_server.h"
#include "runtime/profiler.h"
#include "trace_reader.h"

namespace strata::testing {
namespace {

using nlohmann::json;

// Leaves no profiler running when a test ends early.
struct ProfilerGuard {
  explicit ProfilerGuard(const std::string& path) { Profiler::Start(path); }
  ~ProfilerGuard() { (void)Profiler::Stop(); }
};

TEST(ServerTrace, RequestPhasesStepsAndSchedulingAreTraced) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = ScratchDir() + "/server-trace.json";
  std::vector<std::string> ids;
  {
    ProfilerGuard profiler(path);
    {
      LocalServer server;
      std::vector<std::future<std::pair<int, json>>> replies;
      for (const char* prompt : {"Once upon a time", "The little dog", "Tom had a red ball"}) {
        const json body{{"prompt", prompt}, {"max_tokens", 6}, {"temperature", 0}, {"ignore_eos", true}};
        replies.push_back(std::async(std::launch::async, [&server, body] { return server.Post("/v1/completions", body); }));
      }
      for (auto& reply : replies) {
        auto [status, body] = reply.get();
        ASSERT_EQ(status, 200) << body.dump();
        ids.push_back(body["id"].get<std::string>());
      }
    }  // the server and its engine are gone before the trace is written
    ASSERT_TRUE(Profiler::Stop().ok());
  }
  const TraceReader trace(path);
  EXPECT_FALSE(trace.Slices("host", "schedule").empty());
  EXPECT_FALSE(trace.Slices("host", "sample").empty());
  ExpectOpsInsideSteps(trace, "compute rank 0");

  // id -> phase -> {begin, end}
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> spans;
  for (const json& e : trace.RequestEvents()) {
    auto& span = spans[e["id2"]["local"].get<std::string>()][e["name"].get<std::string>()];
    (e["ph"] == "b" ? span.first : span.second) = e["ts"].get<int64_t>();
  }
  EXPECT_EQ(spans.size(), ids.size());
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(spans.count(id));
    const auto& phases = spans[id];
    for (const char* phase : {"queued", "prefill", "decode"}) {
      ASSERT_TRUE(phases.count(phase)) << phase;
      EXPECT_LE(phases.at(phase).first, phases.at(phase).second) << phase;
    }
    EXPECT_EQ(phases.at("queued").second, phases.at("prefill").first) << "prefill starts when queueing ends";
    EXPECT_EQ(phases.at("prefill").second, phases.at("decode").first) << "decode starts at the first token";
  }
}

}  // namespace
}  // namespace strata::testing
