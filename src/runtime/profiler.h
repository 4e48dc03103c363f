// Chrome trace (Perfetto) profiler: slices on named tracks — host work, host<->device copies, compute per
// rank (one slice per executed op, inside its step), collectives per rank — and request lifecycles as async
// spans. Off by default: every hook first checks Profiler::active(), one relaxed atomic load.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

// kCollectivesB: a second collectives lane per rank, for the second half of an overlapped step (its collectives
// are in flight while the first half's are, so one lane would have crossing slices).
// kExpertLoads: a Composition of Experts' disk -> RAM copies (one loader thread, so one track).
enum class Track { kHost, kCopies, kCompute, kCollectives, kCollectivesB, kExpertLoads };

class Profiler {
 public:
  // The profiler collecting now, or null. Start/Stop are not meant to race with each other.
  static Profiler* active() { return active_.load(std::memory_order_relaxed); }
  // Starts collecting; the trace is written to `path` by Stop().
  static void Start(const std::string& path);
  // Stops collecting and writes the Chrome trace JSON.
  static Status Stop();
  // Stops collecting and returns this process's events (track names included) as trace-event JSON objects
  // joined by ",\n"; "" when not collecting. A multi-process job gathers these at rank 0 ...
  static std::string StopToEvents();
  // ... which writes them as one trace: one timeline, a track per rank.
  static Status WriteTrace(const std::string& path, const std::vector<std::string>& parts);

  static int64_t NowUs();
  // A finished slice on `track` of `rank`; args_json is "" or the inside of a JSON object ("\"bytes\":12").
  void Slice(Track track, int rank, const std::string& name, int64_t begin_us, int64_t end_us,
             const std::string& args_json = "");
  // A request's lifecycle phase (queued, prefill, decode) as an async span keyed by the request id.
  void RequestPhase(const std::string& request_id, const std::string& phase, int64_t begin_us, int64_t end_us);

 private:
  explicit Profiler(std::string path) : path_(std::move(path)) {}
  struct Event {
    int tid;
    std::string name, args, async_id;
    int64_t begin_us, end_us;
  };
  static int Tid(Track track, int rank);
  std::string RenderEvents();  // sorted; under mu_

  static std::atomic<Profiler*> active_;
  std::string path_;
  std::mutex mu_;
  std::vector<Event> events_;
};

// Times a scope as one slice when the profiler is on; costs one atomic load when it is off.
class TraceScope {
 public:
  TraceScope(Track track, int rank, const char* name) : p_(Profiler::active()) {
    if (p_) track_ = track, rank_ = rank, name_ = name, begin_ = Profiler::NowUs();
  }
  ~TraceScope() {
    if (p_) p_->Slice(track_, rank_, name_, begin_, Profiler::NowUs(), args_);
  }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  void set_args(std::string args) { args_ = std::move(args); }
  bool on() const { return p_ != nullptr; }

 private:
  Profiler* p_;
  Track track_ = Track::kHost;
  int rank_ = 0;
  const char* name_ = "";
  int64_t begin_ = 0;
  std::string args_;
};

}  // namespace strata
