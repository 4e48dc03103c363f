// Overlapped tensor-parallel steps (PipelineStep with overlap): the batch's two halves run interleaved at
// collective boundaries, each half's collectives in flight while the other half computes. Ranks are threads
// over InProcessCollectives. The results equal running the two halves one after the other, bit for bit, and
// tp 1's within rounding; the collectives really are interleaved (a second one is posted before the first is
// finished) and the trace shows the first half's collectives spanning the second half's compute.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include "compiler/pass_manager.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/pipeline_step.h"
#include "runtime/plan_executor.h"
#include "runtime/profiler.h"
#include "testdata.h"
#include "tiny_llama_ranks.h"
#include "trace_reader.h"

namespace strata {
namespace {

constexpr int64_t kBlockSize = 16;

// Counts the collectives in flight on one rank (Start .. Finish), recording the most at once.
class CountingCollectives final : public Collectives {
 public:
  explicit CountingCollectives(Collectives& inner) : inner_(inner) {}
  int size() const override { return inner_.size(); }
  Status AllReduceSum(int rank, const float* in, float* out, int64_t n) override { return inner_.AllReduceSum(rank, in, out, n); }
  Status AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override {
    return inner_.AllGather(rank, in, rows, width, out);
  }
  Status Broadcast(int rank, void* data, int64_t bytes, int root, bool idle) override {
    return inner_.Broadcast(rank, data, bytes, root, idle);
  }
  Status Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) override {
    return inner_.Gather(rank, mine, all, root);
  }
  Result<Handle> StartAllReduceSum(int rank, const float* in, float* out, int64_t n) override {
    STRATA_RETURN_IF_ERROR(inner_.AllReduceSum(rank, in, out, n));
    return Started();
  }
  Result<Handle> StartAllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override {
    STRATA_RETURN_IF_ERROR(inner_.AllGather(rank, in, rows, width, out));
    return Started();
  }
  Status Finish(Handle) override {
    --in_flight_;
    return Status::Ok();
  }
  int most_in_flight() const { return most_; }

 private:
  Handle Started() {
    most_ = std::max(most_, ++in_flight_);
    return next_++;
  }
  Collectives& inner_;
  int in_flight_ = 0, most_ = 0;
  Handle next_ = 0;
};

class OverlapTest : public testing::TinyLlamaRanksTest {
 protected:
  // Two sequences, the first cut between the halves: 11 prompt rows (every row's logits) then 5 rows.
  static Batch TwoSequences(const std::vector<int32_t>& t0, const std::vector<int32_t>& t1) {
    Batch b;
    b.tokens = {1, 903, 250, 263, 931, 298, 727, 471, 263, 217, 782, 5, 17, 99, 3, 400};
    b.seqs = {{.first_row = 0, .num_rows = 11, .start_pos = 0, .block_table = t0, .want_logits = true, .all_logits = true},
              {.first_row = 11, .num_rows = 5, .start_pos = 0, .block_table = t1, .want_logits = true}};
    return b;
  }

  // Every rank's step on its own thread; returns rank 0's logits. `step(rank, exec, kv)` gives them.
  using RankStep = std::function<std::vector<float>(int, PlanExecutor&, PagedKvCache&, Collectives*)>;
  std::vector<float> RunRanks(const std::vector<ir::Plan>& plans, const RankStep& step, int* most_in_flight = nullptr) {
    const int tp = static_cast<int>(plans.size());
    InProcessCollectives group(tp);
    std::vector<std::unique_ptr<CountingCollectives>> counting;
    for (int r = 0; r < tp; ++r) counting.push_back(std::make_unique<CountingCollectives>(group));
    std::vector<std::vector<float>> out(static_cast<size_t>(tp));
    std::vector<std::thread> threads;
    for (int r = 0; r < tp; ++r)
      threads.emplace_back([&, r] {
        ThreadPool pool(1);
        Collectives* c = tp > 1 ? counting[static_cast<size_t>(r)].get() : nullptr;
        PlanExecutor exec(plans[static_cast<size_t>(r)], pool, c);
        PagedKvCache kv = exec.MakeKvCache(4, kBlockSize);
        out[static_cast<size_t>(r)] = step(r, exec, kv, c);
      });
    for (std::thread& t : threads) t.join();
    if (most_in_flight) *most_in_flight = counting[0]->most_in_flight();
    return out[0];
  }
};

std::vector<float> Copy(const Logits& l) { return {l.data, l.data + l.rows * l.n_vocab}; }

float WorstDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

TEST_F(OverlapTest, HalvesInterleavedEqualHalvesInTurnAndOneRank) {
  const std::vector<int32_t> t0 = {0}, t1 = {1};
  const Batch batch = TwoSequences(t0, t1);
  const std::vector<ir::Plan> two = Plans(2), one = Plans(1);
  int most_in_flight = 0;
  const std::vector<float> overlapped = RunRanks(two, [&](int r, PlanExecutor& exec, PagedKvCache& kv, Collectives*) {
    PipelineStep step(exec, kv, nullptr, r, exec.n_vocab(), 0, /*overlap=*/true);
    Result<Logits> l = step.Run(batch);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? Copy(*l) : std::vector<float>{};
  }, &most_in_flight);
  EXPECT_EQ(most_in_flight, 2) << "the second half posts its collective before the first half's is finished";

  const auto in_turn = [&](int, PlanExecutor& exec, PagedKvCache& kv, Collectives*) {
    std::vector<float> all;
    for (const Batch& half : SplitMicroBatches(batch, 2)) {
      Result<Logits> l = exec.Run(half, kv);
      EXPECT_TRUE(l.ok()) << l.status().ToString();
      if (l.ok()) all.insert(all.end(), l->data, l->data + l->rows * l->n_vocab);
    }
    return all;
  };
  const std::vector<float> halves = RunRanks(two, in_turn, &most_in_flight);
  EXPECT_EQ(most_in_flight, 1);
  ASSERT_EQ(overlapped.size(), static_cast<size_t>((11 + 1) * model_->config().n_vocab));
  EXPECT_EQ(overlapped, halves) << "same nodes in the same order per half: the same bits";

  const std::vector<float> single = RunRanks(one, [&](int, PlanExecutor& exec, PagedKvCache& kv, Collectives*) {
    Result<Logits> l = exec.Run(batch, kv);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? Copy(*l) : std::vector<float>{};
  });
  ASSERT_EQ(single.size(), overlapped.size());
  const float worst = WorstDiff(single, overlapped);
  EXPECT_LE(worst, 1e-5f);
  std::printf("overlapped tp 2 vs tp 1: max |logit diff| %.2e\n", static_cast<double>(worst));
}

// A one-row step (decode of one sequence) is not split; a failed collective fails the step and leaves the
// executors ready for no more.
TEST_F(OverlapTest, OneRowStepsRunWhole) {
  const std::vector<int32_t> t0 = {0};
  Batch one_row;
  one_row.tokens = {7};
  one_row.seqs = {{.first_row = 0, .num_rows = 1, .start_pos = 0, .block_table = t0, .want_logits = true}};
  int most_in_flight = 0;
  const std::vector<float> got = RunRanks(Plans(2), [&](int r, PlanExecutor& exec, PagedKvCache& kv, Collectives*) {
    PipelineStep step(exec, kv, nullptr, r, exec.n_vocab(), 0, true);
    Result<Logits> l = step.Run(one_row);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? Copy(*l) : std::vector<float>{};
  }, &most_in_flight);
  EXPECT_EQ(got.size(), static_cast<size_t>(model_->config().n_vocab));
  EXPECT_EQ(most_in_flight, 1);
}

// Every rank's trace: the first half's collectives (lane A) span compute slices of the second half, and
// the second half's (lane B) span the first half's; all ops lie inside the one step slice.
TEST_F(OverlapTest, TraceShowsCollectivesOverlappingTheOtherHalfsCompute) {
  const std::string path = ::testing::TempDir() + "overlap_trace.json";
  const std::vector<int32_t> t0 = {0}, t1 = {1};
  const Batch batch = TwoSequences(t0, t1);
  const std::vector<ir::Plan> plans = Plans(2);
  Profiler::Start(path);
  RunRanks(plans, [&](int r, PlanExecutor& exec, PagedKvCache& kv, Collectives*) {
    PipelineStep step(exec, kv, nullptr, r, exec.n_vocab(), 0, true);
    EXPECT_TRUE(step.Run(batch).ok());
    return std::vector<float>{};
  });
  ASSERT_TRUE(Profiler::Stop().ok());
  const testing::TraceReader trace(path);
  for (int r = 0; r < 2; ++r) {
    const std::string compute = "compute rank " + std::to_string(r), lane_a = "collectives rank " + std::to_string(r);
    testing::ExpectOpsInsideSteps(trace, compute);
    const auto ops = trace.Slices(compute);
    const auto count_spanned = [&](const std::string& lane, const std::string& other) {
      int spanned = 0;
      for (const nlohmann::json& c : trace.Slices(lane))
        for (const nlohmann::json& op : ops)
          if (op["name"].get<std::string>().ends_with(other) && testing::Begin(c) <= testing::Begin(op) &&
              testing::End(op) <= testing::End(c))
            ++spanned;
      return spanned;
    };
    EXPECT_GT(count_spanned(lane_a, "(B)"), 0) << "rank " << r;
    EXPECT_GT(count_spanned(lane_a + " (B)", "(A)"), 0) << "rank " << r;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace strata
