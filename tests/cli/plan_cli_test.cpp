// `strata plan` and `strata bench -m` options: passes, tensor parallelism, printing after each pass, JSON,
// memory report, cost model, dumping a node's tensor, and their errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace strata::testing {
namespace {

using nlohmann::json;

TEST(PlanCli, DefaultFusesAndNoneDoesNot) {
  STRATA_REQUIRE_TESTDATA();
  auto fused = Strata("plan -m " + Model("q8_0"));
  ASSERT_EQ(fused.exit_code, 0) << fused.err;
  EXPECT_NE(fused.out.find("rms_norm+matmul+rope"), std::string::npos);
  EXPECT_NE(fused.out.find("rms_norm+swiglu"), std::string::npos);
  EXPECT_NE(fused.out.find("= attention"), std::string::npos);
  EXPECT_NE(fused.out.find("validated: no live tensors overlap"), std::string::npos) << fused.out;
  auto none = Strata("plan -m " + Model("q8_0") + " --passes none");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out.find("= rms_norm+swiglu"), std::string::npos);
  EXPECT_NE(none.out.find("= silu"), std::string::npos);
  EXPECT_NE(none.out.find("attn_scores"), std::string::npos);
  auto bad = Strata("plan -m " + Model("q8_0") + " --passes fuse_all");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown pass 'fuse_all'"), std::string::npos) << bad.err;
}

TEST(PlanCli, PrintAfterAllShowsEveryStep) {
  STRATA_REQUIRE_TESTDATA();
  auto r = Strata("plan -m " + Model("q4_0") + " --print-after-all --tp 2 --device-lacks rope");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* step : {"# after build", "# after tp_split", "# after fuse_attention", "# after fuse_residual",
                           "# after placement"})
    EXPECT_NE(r.out.find(step), std::string::npos) << step;
  EXPECT_NE(r.out.find("all_reduce"), std::string::npos);
  EXPECT_NE(r.out.find("copy_to_host"), std::string::npos);
  EXPECT_NE(r.out.find("@host"), std::string::npos);
}

TEST(PlanCli, JsonHasThePlanAndTheMemoryPlan) {
  STRATA_REQUIRE_TESTDATA();
  auto r = Strata("plan -m " + Model("f16") + " --format json --tp 2 --rank 1 --tokens 64");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["plan"]["tensor_parallel"]["rank"], 1);
  EXPECT_GT(j["plan"]["nodes"].size(), 10u);
  EXPECT_TRUE(j["memory"]["valid"].get<bool>());
  EXPECT_LT(j["memory"]["peak_bytes"].get<int64_t>(), j["memory"]["naive_bytes"].get<int64_t>());
  EXPECT_EQ(j["memory"]["tokens"], 64);
  EXPECT_NE(Strata("plan -m " + Model("f16") + " --tp 3").exit_code, 0) << "6 heads / 2 KV heads do not split 3 ways";
}

TEST(PlanCli, DumpAtPrintsOneTensor) {
  STRATA_REQUIRE_TESTDATA();
  auto r = Strata("plan -m " + Model("f32") + " --passes none --dump-at blk.0.attn_softmax --prompt 'Once upon a time'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  const auto shape = j["shape"].get<std::vector<int64_t>>();
  ASSERT_EQ(shape.size(), 3u);
  EXPECT_EQ(shape[1], 6);  // heads
  const auto values = j["values"].get<std::vector<float>>();
  ASSERT_EQ(values.size(), static_cast<size_t>(shape[0] * shape[1] * shape[2]));
  // Each row of a causal softmax sums to one, positions after its own are zero.
  for (int64_t row = 0; row < shape[0] * shape[1]; ++row) {
    double sum = 0;
    for (int64_t c = 0; c < shape[2]; ++c) sum += values[static_cast<size_t>(row * shape[2] + c)];
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_EQ(values[static_cast<size_t>(row * shape[2] + shape[2] - 1)] == 0.0f, row / 6 != shape[0] - 1);
  }
  auto missing = Strata("plan -m " + Model("f32") + " --dump-at nowhere --prompt x");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no such node"), std::string::npos);
}

TEST(PlanCli, CostAndBenchPredictAndMeasure) {
  STRATA_REQUIRE_TESTDATA();
  auto cost = Strata("plan -m " + Model("q8_0") + " --cost --format json");
  ASSERT_EQ(cost.exit_code, 0) << cost.err;
  const json c = json::parse(cost.out)["cost"];
  EXPECT_GT(c["bandwidth_gbs"].get<double>(), 0);
  EXPECT_GT(c["decode_ms"].get<double>(), 0);
  EXPECT_GT(c["prefill_ms"].get<double>(), c["decode_ms"].get<double>());  // many rows, and the rates of each path
  EXPECT_GT(c["prefill_tokens"].get<int>(), 1);
  auto bench = Strata("bench -m " + Model("q8_0") + " -p 16 -n 8 --json --passes none --tp 2");
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const json b = json::parse(bench.out);
  for (const char* key : {"pp_tps", "tg_tps", "bytes_per_token", "bandwidth_gbs", "roofline_pct",
                          "predicted_ms_per_token", "measured_ms_per_token"})
    EXPECT_GT(b[key].get<double>(), 0) << key;
  EXPECT_EQ(b["generated"], 8);
  // the kernels' own rates the predictions came from: the file's matmul dtype, attention, one dispatch
  const json& rates = b["kernel_rates"];
  EXPECT_GT(rates["gemv_gbs"]["q8_0"].get<double>(), 0) << rates.dump();
  EXPECT_GT(rates["gemm_gflops"]["q8_0"].get<double>(), 0) << rates.dump();
  EXPECT_EQ(rates["attention_gbs"].get<double>(), 0);  // --passes none: no fused attention op to measure
  EXPECT_EQ(rates["attention_gflops"].get<double>(), 0);
  EXPECT_GT(rates["op_us"].get<double>(), 0);
  EXPECT_GT(b["predicted_prefill_ms"].get<double>(), 0);
  // two repetitions, each from an empty cache (the cache holds one run's 20 positions)
  auto fused = Strata("bench -m " + Model("q8_0") + " -p 16 -n 4 --json -r 2");
  ASSERT_EQ(fused.exit_code, 0) << fused.err;
  EXPECT_EQ(json::parse(fused.out)["generated"], 4);
  const json f = json::parse(fused.out)["kernel_rates"];
  EXPECT_GT(f["attention_gbs"].get<double>(), 0) << f.dump();
  EXPECT_GT(f["attention_gflops"].get<double>(), 0) << f.dump();
  EXPECT_GE(f["attention_row_ns"].get<double>(), 0) << f.dump();
  EXPECT_NE(Strata("bench").exit_code, 0);
}

// `strata bench --json` names the machine and the integer path it ran: STRATA_ISA forces a lower one.
TEST(PlanCli, BenchJsonNamesTheCpuAndTheIntegerPath) {
  STRATA_REQUIRE_TESTDATA();
  const std::string args = " bench -m " + Model("q8_0") + " -p 8 -n 2 --json";
  auto scalar = Shell("STRATA_ISA=scalar " + Quote(StrataBinary()) + args);
  ASSERT_EQ(scalar.exit_code, 0) << scalar.err;
  const json s = json::parse(scalar.out);
  EXPECT_EQ(s["isa"], "none");  // no integer kernel: activations stay F32
  EXPECT_EQ(s["matmul_isa"], "scalar");
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (cpuinfo) {
    EXPECT_FALSE(s["cpu"].get<std::string>().empty()) << s.dump();
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    auto avx2 = Shell("STRATA_ISA=avx2 " + Quote(StrataBinary()) + args);
    ASSERT_EQ(avx2.exit_code, 0) << avx2.err;
    EXPECT_EQ(json::parse(avx2.out)["isa"], "avx2");
  }
#endif
}

}  // namespace
}  // namespace strata::testing
