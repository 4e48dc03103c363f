// `mpirun -np 2 strata run --tp 2 --overlap`: the prompt step runs as two halves whose all-reduces overlap the
// other half's compute; the text equals one process's, and the merged trace shows, on every rank, the first
// half's collectives in flight across compute of the second and the reverse. Skipped without mpirun.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli_runner.h"
#include "trace_reader.h"

namespace strata::testing {
namespace {

std::string MpirunTwo() {
  // Leak checking off in the ranks under AddressSanitizer, as in mpi_test.cpp (Open MPI's unloaded plugins).
  return std::string("mpirun --oversubscribe -np 2 -x ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 ") +
         (geteuid() == 0 ? "--allow-run-as-root " : "");
}

// Compute slices of the other half (names ending in `other`) lying inside a collective slice on `lane`.
int Spanned(const TraceReader& trace, const std::string& lane, const std::string& compute, const std::string& other) {
  int n = 0;
  for (const auto& c : trace.Slices(lane))
    for (const auto& op : trace.Slices(compute))
      if (op["name"].get<std::string>().ends_with(other) && Begin(c) <= Begin(op) && End(op) <= End(c)) ++n;
  return n;
}

TEST(MpiOverlap, HalvesGenerateWhatOneProcessDoesAndTheTraceShowsTheOverlap) {
  STRATA_REQUIRE_TESTDATA();
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed (openmpi-bin)";
  const std::string args = "run -m " + Model("f32") + " -p 'Once upon a time' -n 16 -t 1";
  const CommandResult one = Strata(args);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::string path = ::testing::TempDir() + "mpi_overlap_trace.json";
  const CommandResult r =
      Shell(MpirunTwo() + Quote(StrataBinary()) + " " + args + " --tp 2 --overlap --trace " + Quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, one.out);
  const TraceReader trace(path);
  for (const std::string rank : {"0", "1"}) {
    const std::string compute = "compute rank " + rank, lane = "collectives rank " + rank;
    ASSERT_TRUE(trace.HasTrack(lane + " (B)")) << rank;
    ExpectOpsInsideSteps(trace, compute);
    EXPECT_GT(Spanned(trace, lane, compute, "(B)"), 0) << rank;
    EXPECT_GT(Spanned(trace, lane + " (B)", compute, "(A)"), 0) << rank;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace strata::testing

