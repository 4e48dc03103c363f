// Active health checks: GET /health on every backend each interval, ejecting a backend after `eject_after`
// failures in a row and re-admitting it after `readmit_after` successes. The same thread re-reads
// --backends-file when its modification time or size changes. One thread, stopped and joined by Stop() or the
// destructor.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "router/backend_set.h"

namespace strata {

struct HealthConfig {
  double interval_s = 2;       // between rounds
  double timeout_s = 2;        // connect and read, per check
  int eject_after = 2;         // failures in a row (checks or proxied requests that got no answer)
  int readmit_after = 2;       // health check successes in a row
  std::string backends_file;   // re-read on change; empty: the list is fixed
};

class HealthChecker {
 public:
  HealthChecker(BackendSet& backends, HealthConfig config);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void CheckAll();        // one round, now (the router runs one before it accepts requests)
  void ReloadIfChanged();  // --backends-file
  void Start();
  void Stop();

 private:
  void Loop();

  BackendSet& backends_;
  HealthConfig cfg_;
  std::filesystem::file_time_type file_mtime_{};
  std::uintmax_t file_size_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata
