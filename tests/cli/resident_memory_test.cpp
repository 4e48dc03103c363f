// The model held once: after `strata bench` has loaded, compiled and packed a 1B-shape file, the process's
// resident memory (VmRSS from /proc, reported as rss_after_load) is at most 1.15 times the file, for Q4_0, Q8_0
// and Q4_K files (the packed weights replace the file's bytes instead of sitting beside them).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "runtime/kernels/quant_matmul.h"

namespace strata::testing {
namespace {

TEST(ResidentMemory, AtMostOnePointOneFiveTimesTheFileAfterLoad) {
  STRATA_REQUIRE_TESTDATA();
  if (kSanitized) GTEST_SKIP() << "sanitizers' shadow memory and quarantine: resident memory measures them";
  if (!kernels::QuantizedActivationsEnabled()) GTEST_SKIP() << "no integer path on this CPU: weights are not packed";
  for (const char* dtype : {"q4_0", "q8_0", "q4_k"}) {
    const std::string model = ScratchDir() + "/llama-1b-" + dtype + ".gguf";
    const CommandResult gen = Strata(std::string("gen-model --shape llama-1b --dtype ") + dtype + " -o " + model +
                                     " --vocab " + Quote(TestDataPath("tokenizer/llama2-vocab.gguf")));
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    const CommandResult bench = Strata("bench -m " + model + " -p 8 -n 2 -t 2 --json");
    ASSERT_EQ(bench.exit_code, 0) << bench.err;
    const auto j = nlohmann::json::parse(bench.out);
    const double ratio = j["rss_after_load"].get<double>() / j["file_bytes"].get<double>();
    std::printf("[ %s ] resident after load %.1f MiB for a file of %.1f MiB: %.3fx\n", dtype,
                j["rss_after_load"].get<double>() / 1048576, j["file_bytes"].get<double>() / 1048576, ratio);
    EXPECT_LE(ratio, 1.15) << dtype;
    std::remove(model.c_str());
  }
}

}  // namespace
}  // namespace strata::testing
