// A roofline cost model of a plan, calibrated by the kernels' own measured rates: a matmul takes the longer of
// its weight bytes over the rate its dtype's decode GEMV streams them and its FLOPs over its dtype's GEMM rate;
// attention the longer of its KV bytes over the decode attention's read rate and a fixed time per (row, query
// head) plus its FLOPs over the prefill attention's rate (a row's setup, its softmax finish and output write
// do not grow with its span: without that term one rate fits short or long spans, never both); any other op its bytes over the plain read bandwidth or its FLOPs over the F32 matmul rate.
// Each op adds the fixed cost of one dispatch (the pool's fork and join). The rates are measured on the machine
// by the caller (runtime/machine_probe.h). `strata plan --cost` prints the model per op; `strata bench`
// compares its totals with measured prefill and decode.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir.h"

namespace strata::ir {

struct CostRates {
  double bandwidth_gbs = 0;  // plain read of a buffer far larger than the caches
  double gflops = 0;         // F32 matmul
  // Per weight dtype, as the runtime runs it: GB/s of weights a T=1 GEMV streams from memory, and GFLOP/s
  // (2 per multiply-add) of a T=64 GEMM. A dtype absent here falls back to bandwidth_gbs and gflops.
  std::map<DType, double> gemv_gbs, gemm_gflops;
  double attention_gbs = 0;     // KV cache bytes a decode row's attention reads per second (0: bandwidth_gbs)
  double attention_gflops = 0;  // FLOP/s of fused attention over many rows (0: gflops)
  double attention_row_seconds = 0;  // fixed time per (row, query head) of fused attention, besides the FLOPs
  double op_seconds = 0;        // fixed cost of one op
};

struct PlanCost {
  std::vector<double> op_seconds;  // per node id
  double total_seconds = 0;
  int64_t total_bytes = 0, total_flops = 0;
};

PlanCost EstimatePlanCost(const Plan& plan, const Binding& b, const CostRates& rates);

// Each rate the faster of two probes' (the higher rate, the shorter fixed time; prefill attention's rate and
// per-row time as one pair, from the probe that predicts a 2048-position row faster). `strata bench` probes before and after it
// measures and compares its best runs with these: on a shared machine one probe can land in a slow moment
// (a decode then ran at 111 % of the read bandwidth probed before it).
CostRates FasterOf(const CostRates& a, const CostRates& b);

// The table `strata plan --cost` prints: the ops by predicted time, largest first, and the total.
std::string DescribePlanCost(const Plan& plan, const PlanCost& cost, int top);

}  // namespace strata::ir
