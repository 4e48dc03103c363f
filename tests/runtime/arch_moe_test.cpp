// qwen3moe (renormalised top-k) and qwen2moe (plain top-k plus a sigmoid-gated shared expert): generated files
// agree with llama.cpp, every plan variant (passes, --tp 2, --tp 4) computes the same logits, and the MoE
// node routes exactly as a plain softmax / top-k written here, with the trace counting each expert's tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <nlohmann/json.hpp>

#include "arch_checks.h"
#include "runtime/kernels/moe.h"
#include "runtime/profiler.h"

namespace strata {
namespace {

using testing::ArchFile;

TEST(ArchMoe, Qwen3MoeTinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "qwen3moe", .shape = "tiny", .dtype = "f32"});
}

TEST(ArchMoe, Qwen3MoeTinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "qwen3moe", .shape = "tiny", .dtype = "q8_0"});
}

TEST(ArchMoe, Qwen2MoeTinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "qwen2moe", .shape = "tiny", .dtype = "f32"});
}

TEST(ArchMoe, Qwen2MoeTinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "qwen2moe", .shape = "tiny", .dtype = "q8_0"});
}

// Q4_K_M: the tiny experts' rows (128) are not whole K-quant blocks, so those tensors fall back as
// llama-quantize's would (Q4_K -> Q5_0, Q6_K -> Q8_0); the rest are K-quants.
TEST(ArchMoe, Qwen3MoeTinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "qwen3moe", .shape = "tiny", .dtype = "q4_k_m"});
}

TEST(ArchMoe, Qwen2MoeTinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "qwen2moe", .shape = "tiny", .dtype = "q4_k_m"});
}

// 16 and 8 experts divide over 4 ranks; the shared expert splits like a dense FFN.
TEST(ArchMoe, Qwen3MoePlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "qwen3moe", .shape = "tiny", .dtype = "f32"}, 1e-4f, /*max_tp=*/4);
}

TEST(ArchMoe, Qwen2MoePlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "qwen2moe", .shape = "tiny", .dtype = "f32"}, 1e-4f, /*max_tp=*/4);
}

// Plain routing over one row of router logits: softmax over every expert, the k most probable (ties: lower
// index), divided by their sum when renormalised.
void ReferenceRoute(const std::vector<double>& logits, int64_t k, bool renormalize, int32_t* experts, float* weights) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t e = 0; e < p.size(); ++e) sum += p[e] = std::exp(logits[e] - top);
  for (double& v : p) v /= sum;
  std::vector<int32_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
  double chosen = 0;
  for (int64_t j = 0; j < k; ++j) chosen += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
  for (int64_t j = 0; j < k; ++j) {
    experts[j] = order[static_cast<size_t>(j)];
    weights[j] = static_cast<float>(p[static_cast<size_t>(experts[j])] / (renormalize ? chosen : 1.0));
  }
}

// The tokens_per_expert of the last trace slice of node `node`.
std::vector<int64_t> TracedTokensPerExpert(const std::string& trace_path, const std::string& node) {
  std::ifstream in(trace_path);
  const nlohmann::json trace = nlohmann::json::parse(in, nullptr, false);
  std::vector<int64_t> counts;
  if (trace.is_discarded()) return counts;
  for (const auto& e : trace["traceEvents"])
    if (e.contains("args") && e["args"].value("node", "") == node && e["args"].contains("tokens_per_expert"))
      counts = e["args"]["tokens_per_expert"].get<std::vector<int64_t>>();
  return counts;
}

struct RoutedStep {
  std::vector<int64_t> expected_counts, traced_counts;
  float max_out_diff = INFINITY;
};

// Runs `tokens` up to layer 0's MoE node under the profiler; recomputes the router logits from the node's
// input and the router weight, routes them by ReferenceRoute, and compares the node's output with the
// reference FFN over that routing and its traced counts with the routing's.
RoutedStep CheckRoutedStep(CpuExecutor& exec, const ir::Plan& plan, const ir::Node& moe, const ModelConfig& c,
                           bool renormalize, const std::vector<int32_t>& tokens) {
  RoutedStep out;
  const std::string trace = testing::ScratchDir() + "/moe_routing_" + c.arch + ".json";
  Profiler::Start(trace);
  const Status st = exec.ForwardUntil(tokens, moe.id);
  const Status stop = Profiler::Stop();
  EXPECT_TRUE(st.ok() && stop.ok()) << st.ToString() << " " << stop.ToString();
  if (!st.ok()) return out;
  const auto rows = static_cast<int64_t>(tokens.size());
  const int64_t dim = c.dim, ne = c.n_experts, k = c.n_experts_used, ffn = c.expert_ffn_dim;
  const float* h = exec.NodeOutput(moe.inputs[0]);
  const float* router = plan.weight(moe.weight).data_as<float>();
  std::vector<int32_t> experts(static_cast<size_t>(rows * k));
  std::vector<float> weights(experts.size());
  out.expected_counts.assign(static_cast<size_t>(ne), 0);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> logits(static_cast<size_t>(ne));
    for (int64_t e = 0; e < ne; ++e)
      for (int64_t i = 0; i < dim; ++i) logits[static_cast<size_t>(e)] += double{router[e * dim + i]} * h[r * dim + i];
    ReferenceRoute(logits, k, renormalize, &experts[static_cast<size_t>(r * k)], &weights[static_cast<size_t>(r * k)]);
    for (int64_t j = 0; j < k; ++j) ++out.expected_counts[static_cast<size_t>(experts[static_cast<size_t>(r * k + j)])];
  }
  std::vector<float> want(static_cast<size_t>(rows * dim));
  kernels::MoeFfnReference(h, rows, dim, ffn, 0, ne, experts.data(), weights.data(), k, Activation::kSilu,
                           plan.weight(moe.expert_weights[0]).data_as<float>(), plan.weight(moe.expert_weights[1]).data_as<float>(),
                           plan.weight(moe.expert_weights[2]).data_as<float>(), want.data());
  const float* got = exec.NodeOutput(moe.id);
  out.max_out_diff = 0;
  for (size_t i = 0; i < want.size(); ++i) out.max_out_diff = std::max(out.max_out_diff, std::fabs(want[i] - got[i]));
  out.traced_counts = TracedTokensPerExpert(trace, moe.name);
  return out;
}

// `renormalize`: what llama.cpp does for the architecture (not read from the config: a wrong config fails).
// `seed`: one whose weights spread the test prompt over every expert (random routers skew: see below).
void ExpectRoutingMatchesReference(const std::string& arch, bool renormalize, uint64_t seed) {
  // One layer: a step stopped at its MoE node has still stored every layer's KV, so decoding can follow.
  const std::string path = testing::GenArchFile({.arch = arch, .shape = "tiny", .dtype = "f32", .layers = 1, .seed = seed});
  ASSERT_FALSE(path.empty());
  auto model = Model::Load(path, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ModelConfig& c = (*model)->config();
  auto plans = ir::Compile(**model, {});
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  const ir::Plan& plan = plans->front();
  const auto moe = std::find_if(plan.nodes.begin(), plan.nodes.end(), [](const ir::Node& n) { return n.op == ir::Op::kMoe; });
  ASSERT_NE(moe, plan.nodes.end());
  kernels::SetQuantizedActivations(false);
  ThreadPool pool(2);
  CpuExecutor exec(plan, pool, 64);

  // A prompt that spreads over every expert. Random weights route unevenly (attention adds much the same
  // vector to every row, so rows favour the same experts), hence a short prompt and a chosen seed.
  std::vector<int32_t> prompt = {1};
  for (int i = 0; i < 31; ++i) prompt.push_back(static_cast<int32_t>((i * 379 + 17) % 1000 + 2));
  const RoutedStep all = CheckRoutedStep(exec, plan, *moe, c, renormalize, prompt);
  EXPECT_LT(all.max_out_diff, 1e-4f) << arch << ": the MoE node's output is not the reference routing's";
  ASSERT_EQ(std::count(all.expected_counts.begin(), all.expected_counts.end(), 0), 0)
      << ::testing::PrintToString(all.expected_counts) << ": the prompt leaves an expert unused: choose another so this step has tokens on every expert";
  EXPECT_EQ(all.traced_counts, all.expected_counts);
  EXPECT_EQ(std::accumulate(all.traced_counts.begin(), all.traced_counts.end(), int64_t{0}),
            static_cast<int64_t>(prompt.size()) * c.n_experts_used);

  // One decode token reaches only k experts; the rest get none and cost nothing.
  ASSERT_TRUE(exec.Forward(prompt, false).ok());
  const std::vector<int32_t> next = {42};
  const RoutedStep one = CheckRoutedStep(exec, plan, *moe, c, renormalize, next);
  EXPECT_LT(one.max_out_diff, 1e-4f) << arch;
  EXPECT_EQ(std::count(one.expected_counts.begin(), one.expected_counts.end(), 0), c.n_experts - c.n_experts_used);
  EXPECT_EQ(one.traced_counts, one.expected_counts);
  kernels::SetQuantizedActivations(true);
}

TEST(ArchMoe, Qwen3MoeRoutingIsRenormalisedTopK) {
  STRATA_REQUIRE_TESTDATA();
  ExpectRoutingMatchesReference("qwen3moe", /*renormalize=*/true, /*seed=*/5);
}

TEST(ArchMoe, Qwen2MoeRoutingIsPlainTopK) {
  STRATA_REQUIRE_TESTDATA();
  ExpectRoutingMatchesReference("qwen2moe", /*renormalize=*/false, /*seed=*/11);
}

}  // namespace
}  // namespace strata
