// `strata run --trace`: the Chrome trace holds the host, compute, collectives and copies tracks the plan asks
// for, ops nest inside their steps, and tensor parallelism and host fallback show up where they belong.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"
#include "testdata.h"
#include "trace_reader.h"

namespace strata::testing {
namespace {

// Runs a short generation with `flags` and reads its trace.
TraceReader RunTraced(const std::string& name, const std::string& flags) {
  const std::string path = ScratchDir() + "/" + name + ".json";
  const CommandResult r =
      Strata("run -m " + Model("q8_0") + " -p 'Once upon a time' -n 8 -t 2 --trace " + path + " " + flags);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty()) << "the run still prints its text";
  return TraceReader(path);
}

bool HasSliceStartingWith(const TraceReader& trace, const std::string& track, const std::string& prefix) {
  for (const auto& s : trace.Slices(track))
    if (s["name"].get<std::string>().starts_with(prefix)) return true;
  return false;
}

TEST(Trace, RunWritesStepsWithTheirOpsAndHostSampling) {
  STRATA_REQUIRE_TESTDATA();
  const TraceReader trace = RunTraced("run", "");
  EXPECT_TRUE(trace.HasTrack("host"));
  ASSERT_TRUE(trace.HasTrack("compute rank 0"));
  ExpectOpsInsideSteps(trace, "compute rank 0");
  EXPECT_FALSE(trace.Slices("host", "sample").empty());
  EXPECT_FALSE(trace.HasTrack("compute rank 1"));
}

TEST(Trace, TensorParallelRunHasARankAndCollectivesTrackEach) {
  STRATA_REQUIRE_TESTDATA();
  const TraceReader trace = RunTraced("tp2", "--tp 2");
  for (const char* track : {"compute rank 0", "compute rank 1"}) {
    ASSERT_TRUE(trace.HasTrack(track)) << track;
    ExpectOpsInsideSteps(trace, track);
  }
  for (const char* track : {"collectives rank 0", "collectives rank 1"}) {
    ASSERT_TRUE(trace.HasTrack(track)) << track;
    EXPECT_TRUE(HasSliceStartingWith(trace, track, "all_reduce")) << track;
    EXPECT_TRUE(HasSliceStartingWith(trace, track, "all_gather")) << track;
  }
}

TEST(Trace, HostFallbackRunsOnTheHostTrackWithCopiesAroundIt) {
  STRATA_REQUIRE_TESTDATA();
  const TraceReader trace = RunTraced("fallback", "--device-lacks rope --passes none");
  EXPECT_FALSE(trace.Slices("host", "rope (host fallback)").empty());
  ASSERT_TRUE(trace.HasTrack("copies host<->device"));
  EXPECT_FALSE(trace.Slices("copies host<->device", "copy_to_host").empty());
  EXPECT_FALSE(trace.Slices("copies host<->device", "copy_to_device").empty());
  EXPECT_TRUE(trace.Slices("compute rank 0", "rope").empty()) << "rope left the device";
  ExpectOpsInsideSteps(trace, "compute rank 0");
}

// A mixture-of-experts run: each MoE op's slice counts the step's tokens per expert; a decode step's counts
// add up to the experts each token uses.
TEST(Trace, MoeOpsCountTokensPerExpert) {
  STRATA_REQUIRE_TESTDATA();
  const std::string model = ScratchDir() + "/trace-qwen3moe.gguf", path = ScratchDir() + "/trace-moe.json";
  const CommandResult gen = Strata("gen-model --arch qwen3moe --shape tiny --layers 1 -t 2 -o " + model + " --vocab " +
                                   TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const CommandResult r = Strata("run -m " + model + " -p 'Once upon a time' -n 4 -t 2 --trace " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TraceReader trace(path);
  int decode_steps = 0;
  for (const auto& s : trace.Slices("compute rank 0")) {
    if (!s["args"].contains("tokens_per_expert")) continue;
    const auto counts = s["args"]["tokens_per_expert"].get<std::vector<int64_t>>();
    EXPECT_EQ(counts.size(), 16u);  // qwen3moe-tiny: 16 experts, 4 per token
    int64_t sum = 0;
    for (int64_t c : counts) sum += c;
    EXPECT_EQ(sum % 4, 0);
    decode_steps += sum == 4;
  }
  EXPECT_GE(decode_steps, 3) << "a decode step's MoE slice should count 4 tokens";
}

}  // namespace
}  // namespace strata::testing
