#include "runtime/profiler.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/log.h"

namespace strata {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string TrackName(int tid) {
  if (tid == 1) return "host";
  if (tid == 2) return "copies host<->device";
  if (tid == 3) return "copies disk->RAM (expert loads)";
  if (tid >= 10 && tid < 50) return "host rank " + std::to_string(tid - 10);
  if (tid >= 50 && tid < 100) return "copies host<->device rank " + std::to_string(tid - 50);
  if (tid >= 100 && tid < 200) return "compute rank " + std::to_string(tid - 100);
  if (tid >= 200 && tid < 300) return "collectives rank " + std::to_string(tid - 200);
  if (tid >= 400 && tid < 500) return "collectives rank " + std::to_string(tid - 400) + " (B)";
  return "requests";
}

}  // namespace

std::atomic<Profiler*> Profiler::active_{nullptr};

void Profiler::Start(const std::string& path) {
  // Leaked on purpose until Stop: hooks on other threads may still hold the pointer they loaded.
  active_.store(new Profiler(path), std::memory_order_release);  // NOLINT: owned by Stop()
}

int64_t Profiler::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Profiler::Tid(Track track, int rank) {
  switch (track) {
    // Rank 0 (and single-device runs) keep the plain names; other ranks get their own tracks so that
    // concurrent slices of different ranks never interleave on one track.
    case Track::kHost: return rank == 0 ? 1 : 10 + rank;
    case Track::kCopies: return rank == 0 ? 2 : 50 + rank;
    case Track::kCompute: return 100 + rank;
    case Track::kCollectives: return 200 + rank;
    case Track::kCollectivesB: return 400 + rank;
    case Track::kExpertLoads: return 3;
  }
  return 1;
}

void Profiler::Slice(Track track, int rank, const std::string& name, int64_t begin_us, int64_t end_us,
                     const std::string& args_json) {
  std::lock_guard lock(mu_);
  events_.push_back({Tid(track, rank), name, args_json, "", begin_us, end_us});
}

void Profiler::RequestPhase(const std::string& request_id, const std::string& phase, int64_t begin_us, int64_t end_us) {
  std::lock_guard lock(mu_);
  events_.push_back({300, phase, "\"request\":\"" + Escape(request_id) + "\"", request_id, begin_us, end_us});
}

// Ranks in other processes name the same tracks alike (tids are per rank), so merging is concatenation; on one
// host their steady clocks agree, across hosts each host's slices keep its own clock.
std::string Profiler::RenderEvents() {
  // Equal begin times: the longer (enclosing) slice first, so viewers nest steps around their ops.
  std::stable_sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    return a.begin_us != b.begin_us ? a.begin_us < b.begin_us : a.end_us > b.end_us;
  });
  std::vector<int> tids;
  for (const Event& e : events_)
    if (std::find(tids.begin(), tids.end(), e.tid) == tids.end()) tids.push_back(e.tid);
  std::sort(tids.begin(), tids.end());
  std::ostringstream out;
  const char* sep = "";
  for (int tid : tids) {
    out << sep << "{\"ph\":\"M\",\"pid\":1,\"tid\":" << tid << R"(,"name":"thread_name","args":{"name":")"
        << TrackName(tid) << "\"}}";
    out << ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":" << tid << R"(,"name":"thread_sort_index","args":{"sort_index":)"
        << tid << "}}";
    sep = ",\n";
  }
  for (const Event& e : events_) {
    const int64_t dur = std::max<int64_t>(0, e.end_us - e.begin_us);
    if (!e.async_id.empty()) {
      for (int edge = 0; edge < 2; ++edge)
        out << sep << "{\"ph\":\"" << (edge ? 'e' : 'b') << R"(","cat":"request","pid":1,"tid":300,"id2":{"local":")"
            << Escape(e.async_id) << "\"},\"name\":\"" << Escape(e.name) << "\",\"ts\":" << (edge ? e.end_us : e.begin_us)
            << ",\"args\":{" << e.args << "}}";
      sep = ",\n";
      continue;
    }
    out << sep << "{\"ph\":\"X\",\"pid\":1,\"tid\":" << e.tid << ",\"name\":\"" << Escape(e.name) << "\",\"ts\":"
        << e.begin_us << ",\"dur\":" << dur << ",\"args\":{" << e.args << "}}";
    sep = ",\n";
  }
  return out.str();
}

std::string Profiler::StopToEvents() {
  std::unique_ptr<Profiler> p(active_.exchange(nullptr));
  if (!p) return "";
  std::lock_guard lock(p->mu_);
  return p->RenderEvents();
}

Status Profiler::Stop() {
  std::unique_ptr<Profiler> p(active_.exchange(nullptr));
  if (!p) return Status::Ok();
  std::lock_guard lock(p->mu_);
  return WriteTrace(p->path_, {p->RenderEvents()});
}

Status Profiler::WriteTrace(const std::string& path, const std::vector<std::string>& parts) {
  std::ofstream out(path);
  if (!out) return Status::IoError("cannot write trace file " + path);
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  out << R"({"ph":"M","pid":1,"name":"process_name","args":{"name":"strata"}})";
  size_t lines = 0;
  for (const std::string& part : parts)
    if (!part.empty()) {
      out << ",\n" << part;
      lines += static_cast<size_t>(std::count(part.begin(), part.end(), '\n')) + 1;
    }
  out << "\n]}\n";
  if (!out) return Status::IoError("writing trace file " + path + " failed");
  spdlog::info("trace: {} events{} written to {}", lines,
               parts.size() > 1 ? " of " + std::to_string(parts.size()) + " ranks" : "", path);
  return Status::Ok();
}

}  // namespace strata
