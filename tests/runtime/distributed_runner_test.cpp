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
#include "runtime/pipeline_step.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/step_message.h"
#include "testdata.h"
#include "tiny_llama_ranks.h"

namespace strata {
namespace {

constexpr int64_t kVocab = 1024;
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

class DistributedRunnerTest : public testing::TinyLlamaRanksTest {
  // Prefill then greedy decode; every logits row in order.
 public:
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
};

TEST_F(DistributedRunnerTest, WorkersFollowRankZeroAndMatchInProcessRanks) {
  constexpr int kTp = 2, kSteps = 8;
  const std::vector<ir::Plan> plans = Plans(kTp);
  ThreadPool pool0(1), pool1(1), local_pool(2);
  InProcessCollectives world(kTp);
  Status worker = Status::Internal("not run");
  std::thread t([&] { worker = RunWorker(plans[1], pool1, {.world = &world, .group = &world, .world_rank = 1}); });
  std::vector<float> distributed;
  std::vector<int32_t> greedy;
  {
    CpuExecutor exec(DistributedRunner::Factory(plans[0], pool0, {.world = &world, .group = &world}, kVocab), 64);
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

// tp x pp ranks as threads: rank 0 in the calling thread, the others workers; each stage's ranks share a
// group, the stages pass activations and logits through one mailbox.
std::vector<float> RunJob(const std::vector<ir::Plan>& plans, int tp, int pp, int micro_batches, int steps,
                          std::vector<int32_t>& greedy, bool overlap = false) {
  const int n = tp * pp;
  InProcessCollectives world(n);
  std::vector<std::unique_ptr<InProcessCollectives>> groups;
  for (int s = 0; s < pp; ++s) groups.push_back(std::make_unique<InProcessCollectives>(tp));
  InProcessPointToPoint p2p(30);
  auto links = [&](int r) {
    return RankLinks{.world = &world, .group = tp > 1 ? groups[static_cast<size_t>(r / tp)].get() : nullptr,
                     .p2p = &p2p, .world_rank = r, .micro_batches = micro_batches, .overlap = overlap};
  };
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int r = 0; r < n; ++r) pools.push_back(std::make_unique<ThreadPool>(1));
  std::vector<Status> results(static_cast<size_t>(n));
  std::vector<std::thread> workers;
  for (int r = 1; r < n; ++r)
    workers.emplace_back([&, r] { results[static_cast<size_t>(r)] = RunWorker(plans[static_cast<size_t>(r)], *pools[static_cast<size_t>(r)], links(r)); });
  std::vector<float> out;
  {
    CpuExecutor exec(DistributedRunner::Factory(plans[0], *pools[0], links(0), kVocab), 64);
    out = DistributedRunnerTest::Generate(exec, steps, &greedy);
  }
  for (std::thread& t : workers) t.join();
  for (int r = 1; r < n; ++r) EXPECT_TRUE(results[static_cast<size_t>(r)].ok()) << r << ": " << results[static_cast<size_t>(r)].ToString();
  return out;
}

TEST_F(DistributedRunnerTest, PipelineStagesWithMicroBatchesMatchOneRank) {
  constexpr int kSteps = 6;
  std::vector<int32_t> ref_greedy;
  ThreadPool pool(1);
  const std::vector<ir::Plan> one = Plans(1);
  CpuExecutor single(one, pool, 64);
  const std::vector<float> reference = Generate(single, kSteps, &ref_greedy);
  struct Shape { int tp, pp, micro; };
  for (const Shape sh : {Shape{1, 2, 0}, Shape{1, 2, 1}, Shape{1, 3, 4}, Shape{2, 2, 0}}) {
    std::vector<int32_t> greedy;
    const std::vector<float> got = RunJob(Plans(sh.tp, sh.pp), sh.tp, sh.pp, sh.micro, kSteps, greedy);
    ASSERT_EQ(got.size(), reference.size());
    float worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - reference[i]));
    const std::string what = "tp " + std::to_string(sh.tp) + " pp " + std::to_string(sh.pp) + " micro " + std::to_string(sh.micro);
    // Stages run the same kernels on the same rows: bit-identical with one micro-batch and no tensor
    // parallelism; rows cut into micro-batches may take another kernel blocking (measured 3.8e-6).
    EXPECT_LE(worst, sh.tp == 1 && sh.micro == 1 ? 0.0f : 1e-5f) << what;
    EXPECT_EQ(greedy, ref_greedy) << what;
    std::printf("%s: max |logit diff| %.2e\n", what.c_str(), static_cast<double>(worst));
  }
}

// --overlap through the step protocol: the prompt step runs as two interleaved halves on both ranks (decode
// steps of one row run whole); the text is tp 1's.
TEST_F(DistributedRunnerTest, OverlappedHalvesMatchOneRank) {
  constexpr int kSteps = 6;
  std::vector<int32_t> ref_greedy, greedy;
  ThreadPool pool(1);
  const std::vector<ir::Plan> one = Plans(1);
  CpuExecutor single(one, pool, 64);
  const std::vector<float> reference = Generate(single, kSteps, &ref_greedy);
  const std::vector<float> got = RunJob(Plans(2), 2, 1, 0, kSteps, greedy, /*overlap=*/true);
  ASSERT_EQ(got.size(), reference.size());
  float worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - reference[i]));
  EXPECT_LE(worst, 1e-5f);
  EXPECT_EQ(greedy, ref_greedy);
}

TEST(MicroBatches, SplitRowsKeepPositionsAndLogitRows) {
  const std::vector<int32_t> table = {0, 1, 2, 3};
  Batch b;
  b.tokens = {1, 2, 3, 4, 5, 6, 7};
  b.seqs = {{.first_row = 0, .num_rows = 5, .start_pos = 10, .block_table = table, .want_logits = true},
            {.first_row = 5, .num_rows = 2, .start_pos = 0, .block_table = table, .want_logits = true, .all_logits = true}};
  const std::vector<Batch> mbs = SplitMicroBatches(b, 3);
  ASSERT_EQ(mbs.size(), 3u);
  int64_t rows = 0, logit_rows = 0;
  for (const Batch& mb : mbs) {
    rows += static_cast<int64_t>(mb.tokens.size());
    logit_rows += LogitRows(mb);
    BatchLayout layout;
    EXPECT_TRUE(LayoutBatch(mb, 16, 4, layout).ok());
  }
  EXPECT_EQ(rows, 7);
  EXPECT_EQ(logit_rows, LogitRows(b));  // 1 + 2
  // Rows 0-1 | 2-3 | 4-6: sequence 0 is cut twice, its pieces continue its positions.
  EXPECT_EQ(mbs[1].seqs[0].start_pos, 12);
  EXPECT_FALSE(mbs[1].seqs[0].want_logits);
  EXPECT_TRUE(mbs[2].seqs[0].want_logits);
  EXPECT_EQ(mbs[2].seqs[1].first_row, 1);
  EXPECT_EQ(SplitMicroBatches(b, 100).size(), 7u) << "at most one micro-batch per row";
}

TEST_F(DistributedRunnerTest, ALostPeerFailsTheStepAndTheRunnerStaysUnhealthy) {
  const std::vector<ir::Plan> plans = Plans(2);
  ThreadPool pool0(1), pool1(1);
  InProcessCollectives world(2);
  // Both ranks see the group break at the same collective (as both would time out on a dead third party).
  DyingCollectives group0(world, 40), group1(world, 40);
  Status worker = Status::Ok();
  std::thread t([&] { worker = RunWorker(plans[1], pool1, {.world = &world, .group = &group1, .world_rank = 1}); });
  CpuExecutor exec(DistributedRunner::Factory(plans[0], pool0, {.world = &world, .group = &group0}, kVocab), 64);
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
