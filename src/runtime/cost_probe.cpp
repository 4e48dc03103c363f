#include "runtime/cost_probe.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <tuple>
#include <utility>
#include <map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <vector>

#include "runtime/kernels/attention.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/machine_probe.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

// The best of `reps` timings of f, in seconds (the first run warms caches and page tables and is dropped).
template <class F>
double BestSeconds(int reps, F&& f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t).count());
  }
  return best;
}

constexpr size_t kStreamBytes = size_t{256} << 20;  // as the bandwidth probe: far past the caches

// y = x · Wᵀ on the path the executor takes for w's dtype: the integer kernel when it packs, else MatMul.
struct Linear {
  Tensor w;
  std::unique_ptr<kernels::PackedWeight> packed;
  void Run(const float* x, float* y, int64_t T, ThreadPool& pool) const {
    if (packed) kernels::QuantMatMul(*packed, x, y, T, pool);
    else kernels::MatMul(w, x, y, T, pool);
  }
  int64_t bytes() const { return packed ? static_cast<int64_t>(packed->bytes()) : w.nbytes(); }
};

// An [n, k] weight of dtype t filled with bytes that decode to small finite values (0x11: fp16 ~6e-4).
Linear MakeLinear(DType t, int64_t n, int64_t k) {
  Linear l;
  Tensor w = Tensor::Empty(t, {n, k});
  std::memset(w.mutable_data(), 0x11, static_cast<size_t>(w.nbytes()));
  l.packed = kernels::PackedWeight::Pack(w);
  if (!l.packed) l.w = std::move(w);
  return l;
}

struct Shape {
  DType dtype;
  int64_t n, k;
  bool per_token;  // false: the head, run on the rows whose logits are wanted (one a sequence in prefill)
};

// The plan's matmul weights in execution order (a gated FFN's gate and up as two).
std::vector<Shape> LinearShapes(const ir::Plan& plan) {
  std::vector<Shape> out;
  for (const ir::Node& n : plan.nodes) {
    if ((n.op != ir::Op::kMatMul && n.op != ir::Op::kGatedFfn) || n.weight < 0) continue;
    const bool per_token = n.shape.empty() || n.shape[0] != ir::kSymOutRows;
    for (int w : {n.weight, n.weight2})
      if (w >= 0 && plan.weight(w).rank() == 2)
        out.push_back({plan.weight(w).dtype(), plan.weight(w).dim(0), plan.weight(w).dim(1), per_token});
  }
  return out;
}

// Decode: the plan's own matmul shapes in its order, as many as fill kStreamBytes (a model's first layers),
// run as GEMVs one after another as a decode step runs them, each op timed: per dtype the weight bytes over
// the time, which counts what a step pays and a single large GEMV does not (each op's start, small matrices).
void ProbeGemv(const std::vector<Shape>& shapes, ThreadPool& pool, ir::CostRates& r) {
  std::vector<Linear> ls;
  int64_t total = 0, max_n = 0, max_k = 0;
  for (size_t i = 0; i < shapes.size() && total < static_cast<int64_t>(kStreamBytes); ++i) {
    ls.push_back(MakeLinear(shapes[i].dtype, shapes[i].n, shapes[i].k));
    total += ls.back().bytes();
    max_n = std::max(max_n, shapes[i].n);
    max_k = std::max(max_k, shapes[i].k);
  }
  std::vector<float> x(static_cast<size_t>(max_k), 0.5f), y(static_cast<size_t>(max_n));
  std::map<DType, double> seconds, bytes, best;
  for (int rep = 0; rep < 7; ++rep) {  // the best of 6 after a warm-up: a shared machine's dips are not the rate
    seconds.clear();
    for (size_t i = 0; i < ls.size(); ++i) {
      const auto t = Clock::now();
      ls[i].Run(x.data(), y.data(), 1, pool);
      seconds[shapes[i].dtype] += std::chrono::duration<double>(Clock::now() - t).count();
      if (rep == 0) bytes[shapes[i].dtype] += static_cast<double>(ls[i].bytes());
    }
    if (rep == 0) continue;  // the first pass pages the buffers in
    for (const auto& [t, s] : seconds) best[t] = std::max(best[t], bytes[t] / s / 1e9);
  }
  for (const auto& [t, v] : best) r.gemv_gbs[t] = v;
}

// Prefill: each distinct per-token matmul shape against 512 rows (bench's and serve's prompt chunk), weighted by how often
// the plan runs it: per dtype, its FLOPs over its time (GFLOP/s). The head is left out: prefill runs it on one
// row a sequence.
void ProbeGemm(const std::vector<Shape>& shapes, ThreadPool& pool, ir::CostRates& r) {
  std::map<std::tuple<DType, int64_t, int64_t>, int> count;
  for (const Shape& s : shapes)
    if (s.per_token) ++count[{s.dtype, s.n, s.k}];
  const int64_t T = 512;
  std::vector<std::pair<std::tuple<DType, int64_t, int64_t>, int>> distinct(count.begin(), count.end());
  std::vector<Linear> ls;
  int64_t max_n = 0, max_k = 0;
  for (const auto& [key, times] : distinct) {
    ls.push_back(MakeLinear(std::get<0>(key), std::get<1>(key), std::get<2>(key)));
    max_n = std::max(max_n, std::get<1>(key));
    max_k = std::max(max_k, std::get<2>(key));
  }
  std::vector<float> x(static_cast<size_t>(T * max_k), 0.5f), y(static_cast<size_t>(T * max_n));
  // Passes over every shape, each shape's best of 3 after a warm pass: a single timing of a shape was off by up
  // to a third now and then on this shared machine.
  std::vector<double> best(distinct.size(), 1e30);
  for (int rep = 0; rep < 4; ++rep)
    for (size_t i = 0; i < ls.size(); ++i) {
      const auto t0 = Clock::now();
      ls[i].Run(x.data(), y.data(), T, pool);
      if (rep > 0) best[i] = std::min(best[i], std::chrono::duration<double>(Clock::now() - t0).count());
    }
  std::map<DType, double> flops, seconds;
  for (size_t i = 0; i < distinct.size(); ++i) {
    const auto& [key, times] = distinct[i];
    const auto [t, n, k] = key;
    seconds[t] += times * best[i];
    flops[t] += times * 2.0 * static_cast<double>(n * k * T);
  }
  for (const auto& [t, f] : flops) r.gemm_gflops[t] = f / seconds[t] / 1e9;
}

const ir::Node* FirstAttention(const ir::Plan& plan) {
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kAttention) return &n;
  return nullptr;
}

// The attention kernel's rates in the plan's KV layout (slot j at block j / 16): for decode, one row's read rate
// layer after layer over a cache per layer (together kStreamBytes, far past the caches, each of a size decode
// meets: one 256 MiB layer ran at 2/3 of the rate the model's 16 layers of 16 MiB each did); for prefill,
// from two 512-row chunks (rows 0..511 of a prompt, and the last 512 rows of a `context`-token one, causal as
// prefill runs them), its FLOP rate and fixed time per (row, head): time = rows x heads x row_seconds + flops /
// rate, fitted through the two. Fitted at 4096 and extrapolated, a 16384-token prefill was predicted 1/3 too
// slow (the rate still grows past 4096 positions a row): the caller passes the context it will run.
void ProbeAttention(const ir::Plan& plan, const ir::Node& n, int64_t context, ThreadPool& pool, ir::CostRates& r) {
  const int64_t row_bytes = RowBytes(plan.kv.dtype, plan.kv.kv_dim), block = 16, T = 512;
  const int64_t kLong = std::clamp<int64_t>(context / block * block, 8 * T, kMaxProbeContext);
  const int64_t layers = std::max<int64_t>(1, plan.kv.n_layers);
  // per layer: kStreamBytes together (at least a block each); the first layer also holds the long chunk's
  // context
  const int64_t positions =
      std::max<int64_t>(block, static_cast<int64_t>(kStreamBytes / 2) / layers / row_bytes / block * block);
  struct LayerKv {
    std::vector<uint8_t> k, v;
  };
  std::vector<LayerKv> caches(static_cast<size_t>(layers));
  for (LayerKv& c : caches) c.k.assign(static_cast<size_t>(positions * row_bytes), 0x11), c.v = c.k;
  const int64_t first_positions = std::max(positions, kLong);
  caches[0].k.resize(static_cast<size_t>(first_positions * row_bytes), 0x11), caches[0].v = caches[0].k;
  std::vector<int32_t> table(static_cast<size_t>(first_positions / block));
  std::iota(table.begin(), table.end(), 0);
  std::vector<const int32_t*> tables(static_cast<size_t>(T), table.data());
  auto view = [&](const LayerKv& c) {
    return kernels::PagedKvView{c.k.data(), c.v.data(), block, tables.data(), plan.kv.dtype, row_bytes};
  };
  kernels::AttentionShape shape{n.n_heads, n.n_kv_heads, n.head_dim, n.scale, n.softcap, n.window};
  const int64_t q_dim = n.n_heads * n.head_dim;
  std::vector<float> q(static_cast<size_t>(T * q_dim), 0.01f), out(q.size());
  const int32_t last = static_cast<int32_t>(positions - 1);
  double s = BestSeconds(2, [&] {
    for (const LayerKv& c : caches) kernels::Attention(q.data(), 1, &last, view(c), shape, out.data(), pool);
  });
  const int64_t span = n.window > 0 ? std::min(positions, n.window) : positions;
  r.attention_gbs = 2.0 * static_cast<double>(layers * span * row_bytes) / s / 1e9;
  // FLOPs as the cost model counts them (op_defs.cpp AttentionCost): 4 per (row, head, attended position, dim)
  // over the rows' mean span (2C - T + 1) / 2, bounded by the window
  auto chunk = [&](int64_t context, double& flops) {
    std::vector<int32_t> pos(static_cast<size_t>(T));
    std::iota(pos.begin(), pos.end(), static_cast<int32_t>(context - T));
    int64_t mean = (2 * context - T + 1) / 2;
    if (n.window > 0) mean = std::min(mean, n.window);
    flops = 4.0 * static_cast<double>(T * mean) * static_cast<double>(q_dim);
    return BestSeconds(2, [&] { kernels::Attention(q.data(), T, pos.data(), view(caches[0]), shape, out.data(), pool); });
  };
  double f_short = 0, f_long = 0;
  const double s_short = chunk(T, f_short), s_long = chunk(kLong, f_long);
  const double rows = static_cast<double>(T * n.n_heads);
  if (s_long > s_short && f_long > f_short) {
    r.attention_gflops = (f_long - f_short) / (s_long - s_short) / 1e9;
    r.attention_row_seconds = std::max(0.0, (s_short - f_short / (r.attention_gflops * 1e9)) / rows);
  } else {  // noise (or a window as short as the first chunk): one rate through the long chunk
    r.attention_gflops = f_long / s_long / 1e9;
  }
}

// One fork and join of the pool with nothing to do: what every op pays besides its work.
double ProbeDispatch(ThreadPool& pool) {
  constexpr int kRuns = 2000;
  return BestSeconds(3, [&] {
           for (int i = 0; i < kRuns; ++i) pool.Run([](int, int) {});
         }) / kRuns;
}

}  // namespace

ir::CostRates ProbeCostRates(const ir::Plan& plan, ThreadPool& pool, int64_t context) {
  const MachineRates m = ProbeMachine(pool);
  ir::CostRates r;
  r.bandwidth_gbs = m.bandwidth_gbs;
  r.gflops = m.gflops;
  const std::vector<Shape> shapes = LinearShapes(plan);
  ProbeGemv(shapes, pool, r);
  ProbeGemm(shapes, pool, r);
  if (const ir::Node* attention = FirstAttention(plan)) ProbeAttention(plan, *attention, context, pool, r);
  r.op_seconds = ProbeDispatch(pool);
#if defined(__GLIBC__)
  // The probes' large buffers raise glibc's mmap threshold as they are freed, so the later ones came from the
  // heap and stayed resident (+20 MiB on a 1B model, where resident memory is to stay near the file's size).
  malloc_trim(0);
#endif
  return r;
}

}  // namespace strata
