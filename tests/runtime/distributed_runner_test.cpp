// The multi-process step protocol, run between threads over InProcessCollectives: rank 0's DistributedRunner
// broadcasts each batch, worker ranks (RunWorker) run their shard, and the logits equal the in-process
// tensor-parallel runner's bit for bit (same collectives order) and --tp 1's within rounding. A group that
// breaks mid-step fails the step with kUnavailable, marks the runner unhealthy and stops the workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "compiler/pass_manager.h"
#include "runtime/cpu_executor.h"
#include "runtime/distributed_runner.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/step_message.h"
#include "testdata.h"

namespace strata {
namespace {

const std::vector<int32_t> kPrompt = {1, 903, 250, 263, 931, 298, 727, 471, 263, 217, 782};  // the tiny model has 1024 tokens

TEST(StepMessage, RoundTripsABatch) {
  const std::vector<int32_t> t0 = {3, 4}, t1 = {7};
  Batch b;
  b.tokens = {5, 6, 7, 8};
  b.seqs = {{.first_row = 0, .num_rows = 3, .start_pos = 20, .block_table = t0, .want_logits = true},
            {.first_row = 3, .num_rows = 1, .start_pos = 0, .block_table = t1, .want_logits = true, .all_logits = true}};
  Batch got;
  std::vector<int32_t> tables;
  int stop = 0;
  ASSERT_TRUE(DecodeStep(EncodeStep(b, 17), got, tables, stop).ok());
  EXPECT_EQ(stop, 17);
  EXPECT_EQ(got.tokens, b.tokens);
  ASSERT_EQ(got.seqs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got.seqs[i].first_row, b.seqs[i].first_row);
    EXPECT_EQ(got.seqs[i].num_rows, b.seqs[i].num_rows);
    EXPECT_EQ(got.seqs[i].start_pos, b.seqs[i].start_pos);
    EXPECT_EQ(got.seqs[i].want_logits, b.seqs[i].want_logits);
    EXPECT_EQ(got.seqs[i].all_logits, b.seqs[i].all_logits);
    EXPECT_TRUE(std::equal(got.seqs[i].block_table.begin(), got.seqs[i].block_table.end(), b.seqs[i].block_table.begin(),
                           b.seqs[i].block_table.end()));
  }
}

TEST(StepMessage, RefusesTruncatedAndOversizedMessages) {
  const std::vector<int32_t> table = {0, 1, 2};
  Batch b;
  b.tokens = {1, 2};
  b.seqs = {{.first_row = 0, .num_rows = 2, .block_table = table, .want_logits = true}};
  const std::vector<int64_t> words = EncodeStep(b, -1);
  Batch got;
  std::vector<int32_t> tables;
  int stop = 0;
  for (size_t n = 0; n < words.size(); ++n) {
    const std::vector<int64_t> cut(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(DecodeStep(cut, got, tables, stop).code(), Status::Code::kCorrupt) << n << " words";
  }
  std::vector<int64_t> longer = words;
  longer.push_back(0);
  EXPECT_FALSE(DecodeStep(longer, got, tables, stop).ok());
  std::vector<int64_t> huge = words;
  huge[1] = int64_t{1} << 40;  // token count past the message
  EXPECT_FALSE(DecodeStep(huge, got, tables, stop).ok());
  std::vector<int64_t> bad_id = words;
  bad_id[3] = int64_t{1} << 33;  // a token id that does not fit 32 bits
  EXPECT_FALSE(DecodeStep(bad_id, got, tables, stop).ok());
  int64_t blocks = 0, size = 0;
  EXPECT_FALSE(DecodeInit({0, 16}, blocks, size).ok());
  EXPECT_FALSE(DecodeInit({4}, blocks, size).ok());
  EXPECT_TRUE(DecodeInit(EncodeInit(4, 16), blocks, size).ok());
}

// A group whose peer "dies" after `live_calls` collectives: later calls fail as MPI's would on timeout.
class DyingCollectives final : public Collectives {
 public:
  DyingCollectives(Collectives& inner, int live_calls) : inner_(inner), left_(live_calls) {}
  int size() const override { return inner_.size(); }
  Status AllReduceSum(int rank, const float* in, float* out, int64_t n) override {
    if (Status st = Tick(); !st.ok()) return st;
    return inner_.AllReduceSum(rank, in, out, n);
  }
  Status AllGather(int rank, const float* in, int64_t rows, int64_t width, float* out) override {
    if (Status st = Tick(); !st.ok()) return st;
    return inner_.AllGather(rank, in, rows, width, out);
  }
  Status Broadcast(int rank, void* data, int64_t bytes, int root, bool idle) override {
    return inner_.Broadcast(rank, data, bytes, root, idle);
  }
  Status Gather(int rank, const std::string& mine, std::vector<std::string>& all, int root) override {
    return inner_.Gather(rank, mine, all, root);
  }

 private:
  Status Tick() { return --left_ < 0 ? Status::Unavailable("peer lost (simulated)") : Status::Ok(); }
  Collectives& inner_;
  int left_;
};

class DistributedRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STRATA_REQUIRE_TESTDATA();
    kernels::SetQuantizedActivations(false);
    auto m = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  void TearDown() override { kernels::SetQuantizedActivations(true); }

  std::vector<ir::Plan> Plans(int tp) {
    auto ranks = ir::Compile(*model_, {.passes = ir::DefaultPasses(), .tp = tp});
    EXPECT_TRUE(ranks.ok()) << ranks.status().ToString();
    return std::move(ranks).value();
  }

  // Prefill then greedy decode; every logits row in order.
  static std::vector<float> Generate(CpuExecutor& exec, int steps, std::vector<int32_t>* greedy = nullptr) {
    std::vector<float> all;
    auto logits = exec.Forward(kPrompt, true);
    EXPECT_TRUE(logits.ok()) << logits.status().ToString();
    if (!logits.ok()) return all;
    all.assign(logits->data, logits->data + logits->rows * logits->n_vocab);
    for (int s = 0; s < steps; ++s) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits->last(), logits->last() + logits->n_vocab) - logits->last());
      if (greedy) greedy->push_back(next);
      const int32_t one[1] = {next};
      logits = exec.Forward(one, false);
      EXPECT_TRUE(logits.ok()) << logits.status().ToString();
      if (!logits.ok()) break;
      all.insert(all.end(), logits->last(), logits->last() + logits->n_vocab);
    }
    return all;
  }

  std::unique_ptr<Model> model_;
};

TEST_F(DistributedRunnerTest, WorkersFollowRankZeroAndMatchInProcessRanks) {
  constexpr int kTp = 2, kSteps = 8;
  const std::vector<ir::Plan> plans = Plans(kTp);
  ThreadPool pool0(1), pool1(1), local_pool(2);
  InProcessCollectives world(kTp);
  Status worker = Status::Internal("not run");
  std::thread t([&] { worker = RunWorker(plans[1], pool1, world, &world, 1); });
  std::vector<float> distributed;
  std::vector<int32_t> greedy;
  {
    CpuExecutor exec(DistributedRunner::Factory(plans[0], pool0, world, &world), 64);
    distributed = Generate(exec, kSteps, &greedy);
    EXPECT_TRUE(exec.health().ok());
  }  // the runner tells the worker to stop
  t.join();
  EXPECT_TRUE(worker.ok()) << worker.ToString();

  CpuExecutor local(plans, local_pool, 64);
  EXPECT_EQ(Generate(local, kSteps), distributed) << "same shards, same reduction order: the same bits";

  const std::vector<ir::Plan> one = Plans(1);
  CpuExecutor single(one, local_pool, 64);
  std::vector<int32_t> single_greedy;
  const std::vector<float> reference = Generate(single, kSteps, &single_greedy);
  ASSERT_EQ(reference.size(), distributed.size());
  float worst = 0;
  for (size_t i = 0; i < reference.size(); ++i) worst = std::max(worst, std::fabs(reference[i] - distributed[i]));
  EXPECT_LE(worst, 1e-4f);
  EXPECT_EQ(greedy, single_greedy);
}

TEST_F(DistributedRunnerTest, ALostPeerFailsTheStepAndTheRunnerStaysUnhealthy) {
  const std::vector<ir::Plan> plans = Plans(2);
  ThreadPool pool0(1), pool1(1);
  InProcessCollectives world(2);
  // Both ranks see the group break at the same collective (as both would time out on a dead third party).
  DyingCollectives group0(world, 40), group1(world, 40);
  Status worker = Status::Ok();
  std::thread t([&] { worker = RunWorker(plans[1], pool1, world, &group1, 1); });
  CpuExecutor exec(DistributedRunner::Factory(plans[0], pool0, world, &group0), 64);
  Result<Logits> logits = exec.Forward(kPrompt, false);
  for (int i = 0; i < 20 && logits.ok(); ++i) {
    const int32_t one[1] = {1};
    logits = exec.Forward(one, false);
  }
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().code(), Status::Code::kUnavailable) << logits.status().ToString();
  EXPECT_EQ(exec.health().code(), Status::Code::kUnavailable);
  const int32_t one[1] = {1};
  EXPECT_EQ(exec.Forward(one, false).status().code(), Status::Code::kUnavailable) << "later steps fail at once";
  t.join();
  EXPECT_EQ(worker.code(), Status::Code::kUnavailable) << worker.ToString();
}

}  // namespace
}  // namespace strata
