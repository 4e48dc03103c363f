#include "router/backend.h"

#include <chrono>
#include <charconv>

namespace strata {
namespace {

// Request latency bounds (seconds): short completions up to long streams.
const std::vector<double> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                             2.5,   5.0,  10.0,  30.0, 60.0, 120.0, 300.0};

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<BackendAddress> ParseBackendUrl(const std::string& text) {
  std::string rest = text;
  if (rest.starts_with("https://")) return Status::InvalidArgument("backend " + text + ": https is not supported (use http on a private network)");
  if (rest.starts_with("http://")) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return Status::InvalidArgument("backend " + text + ": expected http://host:port without a path");
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("backend " + text + ": expected http://host:port");
  BackendAddress a;
  a.host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || end != port.data() + port.size() || a.port < 1 || a.port > 65535)
    return Status::InvalidArgument("backend " + text + ": the port must be a number in 1..65535");
  if (a.host.size() > 253) return Status::InvalidArgument("backend " + text + ": host name too long");
  a.url = "http://" + a.host + ":" + port;
  return a;
}

Backend::Backend(BackendAddress address) : address_(std::move(address)), latency_(kLatencyBuckets) {}

bool Backend::RecordSuccess(int readmit_after) {
  std::lock_guard lock(mu_);
  consecutive_failures_ = 0;
  ++consecutive_successes_;
  proven_ = true;
  if (!healthy_.load() && consecutive_successes_ >= readmit_after) {
    healthy_.store(true);
    return true;
  }
  return false;
}

bool Backend::RecordFailure(int eject_after) {
  std::lock_guard lock(mu_);
  consecutive_successes_ = 0;
  ++consecutive_failures_;
  const bool first = !proven_;
  proven_ = true;
  if (healthy_.load() && (first || consecutive_failures_ >= eject_after)) {
    healthy_.store(false);
    return true;
  }
  return false;
}

void Backend::Begin() {
  outstanding_.fetch_add(1);
  requests_.fetch_add(1);
}

void Backend::End(bool error, double seconds) {
  outstanding_.fetch_sub(1);
  if (error) errors_.fetch_add(1);
  std::lock_guard lock(mu_);
  latency_.Observe(seconds);
}

Backend::Stats Backend::Snapshot() const {
  Stats s;
  s.requests = requests_.load();
  s.errors = errors_.load();
  s.outstanding = outstanding_.load();
  s.healthy = healthy_.load();
  std::lock_guard lock(mu_);
  s.latency = latency_;
  return s;
}

InFlight::InFlight(std::shared_ptr<Backend> b) : backend_(std::move(b)), start_s_(NowSeconds()) { backend_->Begin(); }

InFlight::~InFlight() { Finish(true); }

void InFlight::Finish(bool error) {
  if (finished_) return;
  finished_ = true;
  backend_->End(error, NowSeconds() - start_s_);
}

}  // namespace strata
