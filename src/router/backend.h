// One upstream `strata serve` as the router sees it: its address, whether it is in rotation, how many requests
// it has in flight, and what it has done (for /metrics). Shared by the request threads and the health checker,
// so every field is atomic or under the mutex.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/metrics.h"

namespace strata {

struct BackendAddress {
  std::string url;   // "http://host:port", as given (without a trailing slash)
  std::string host;
  int port = 0;
};

// "http://host:port" or "host:port" (http only: the backends are on a private network). Port 1..65535.
Result<BackendAddress> ParseBackendUrl(const std::string& text);

class Backend {
 public:
  explicit Backend(BackendAddress address);
  const BackendAddress& address() const { return address_; }
  const std::string& url() const { return address_.url; }

  bool healthy() const { return healthy_.load(); }
  int outstanding() const { return outstanding_.load(); }

  // A health check or a proxied request went through / failed to connect or answer. `eject_after`
  // consecutive failures take the backend out of rotation; `readmit_after` consecutive health check
  // successes bring it back. A backend starts in rotation but unproven: its first outcome decides at once, so a
  // backend that is down when the router starts (or joins through the backends file) gets no requests.
  // Returns true when the state changed.
  bool RecordSuccess(int readmit_after);
  bool RecordFailure(int eject_after);

  // A request routed here: Begin before the upstream call, End after it with its outcome.
  void Begin();
  void End(bool error, double seconds);

  struct Stats {
    uint64_t requests = 0, errors = 0;
    int outstanding = 0;
    bool healthy = false;
    Histogram latency{{}};
  };
  Stats Snapshot() const;

 private:
  BackendAddress address_;
  std::atomic<bool> healthy_{true};  // until the first health check says otherwise
  std::atomic<int> outstanding_{0};
  std::atomic<uint64_t> requests_{0}, errors_{0};
  mutable std::mutex mu_;  // guards the counters below and the histogram
  bool proven_ = false;  // has had an outcome
  int consecutive_failures_ = 0;
  int consecutive_successes_ = 0;
  Histogram latency_;
};

// Counts a request on a backend for its lifetime; End()s it exactly once.
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<Backend> b);
  ~InFlight();
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  void Finish(bool error);
  Backend& backend() { return *backend_; }

 private:
  std::shared_ptr<Backend> backend_;
  double start_s_;
  bool finished_ = false;
};

using BackendList = std::vector<std::shared_ptr<Backend>>;

}  // namespace strata
