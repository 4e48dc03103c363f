#include "engine/request_trace.h"

#include <cstdint>

#include "runtime/profiler.h"

namespace strata {
namespace {

int64_t Us(RequestTimeline::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

void TraceRequestLifecycle(const std::string& request_id, const RequestTimeline& t,
                           RequestTimeline::Clock::time_point end) {
  Profiler* p = Profiler::active();
  if (!p) return;
  const bool scheduled = t.was_scheduled(), sampled = t.has_first_token();
  p->RequestPhase(request_id, "queued", Us(t.arrival), Us(scheduled ? t.scheduled : end));
  if (!scheduled) return;
  p->RequestPhase(request_id, "prefill", Us(t.scheduled), Us(sampled ? t.first_token : end));
  if (sampled) p->RequestPhase(request_id, "decode", Us(t.first_token), Us(end));
}

}  // namespace strata
