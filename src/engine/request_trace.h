// A request's lifecycle as profiler spans: queued (arrival -> first scheduled), prefill (first scheduled ->
// first token), decode (first token -> finish). The engine stamps the times as they happen, whether or not a
// profiler is on, and hands them over once when the request ends.
#pragma once

#include <chrono>
#include <string>

namespace strata {

struct RequestTimeline {
  using Clock = std::chrono::steady_clock;  // the profiler's clock (Profiler::NowUs)
  Clock::time_point arrival = Clock::now();
  Clock::time_point scheduled;    // first time the scheduler ran it; default (epoch) until then
  Clock::time_point first_token;  // default until its first token was sampled

  bool was_scheduled() const { return scheduled != Clock::time_point{}; }
  bool has_first_token() const { return first_token != Clock::time_point{}; }
};

// Records the phases a request went through before it ended at `end`, if the profiler is on; phases it never
// reached (aborted while queued, failed in prefill) are left out. One atomic load when the profiler is off.
void TraceRequestLifecycle(const std::string& request_id, const RequestTimeline& t,
                           RequestTimeline::Clock::time_point end);

}  // namespace strata
