#include "router/health_checker.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"

namespace strata {
namespace {

void SetTimeouts(httplib::Client& c, double seconds) {
  const auto us = static_cast<int64_t>(std::clamp(seconds, 0.001, 3600.0) * 1e6);
  c.set_connection_timeout(us / 1000000, us % 1000000);
  c.set_read_timeout(us / 1000000, us % 1000000);
  c.set_write_timeout(us / 1000000, us % 1000000);
}

bool Healthy(const Backend& b, double timeout_s) {
  httplib::Client c(b.address().host, b.address().port);
  SetTimeouts(c, timeout_s);
  auto res = c.Get("/health");
  return res && res->status == 200;
}

}  // namespace

HealthChecker::HealthChecker(BackendSet& backends, HealthConfig config) : backends_(backends), cfg_(std::move(config)) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::CheckAll() {
  for (const auto& b : backends_.Snapshot()) {
    const bool ok = Healthy(*b, cfg_.timeout_s);
    const bool changed = ok ? b->RecordSuccess(cfg_.readmit_after) : b->RecordFailure(cfg_.eject_after);
    if (changed) spdlog::warn("backend {} {}", b->url(), ok ? "is healthy again: re-admitted" : "failed its health checks: ejected");
  }
}

void HealthChecker::ReloadIfChanged() {
  if (cfg_.backends_file.empty()) return;
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(cfg_.backends_file, ec);
  const auto size = ec ? 0 : std::filesystem::file_size(cfg_.backends_file, ec);
  if (ec || (mtime == file_mtime_ && size == file_size_)) return;
  file_mtime_ = mtime;  // a broken file is reported once, not every round
  file_size_ = size;
  auto list = ReadBackendsFile(cfg_.backends_file);
  if (!list.ok()) {
    spdlog::warn("{}: keeping the previous backends", list.status().message());
    return;
  }
  backends_.Replace(*list);
  spdlog::info("backends file {}: {} backends", cfg_.backends_file, list->size());
}

void HealthChecker::Start() {
  std::lock_guard lock(mu_);
  stop_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void HealthChecker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::Loop() {
  const auto interval = std::chrono::microseconds(static_cast<int64_t>(std::clamp(cfg_.interval_s, 0.01, 3600.0) * 1e6));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
    lock.unlock();
    ReloadIfChanged();
    CheckAll();
    lock.lock();
  }
}

}  // namespace strata
