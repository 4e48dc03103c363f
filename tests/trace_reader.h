// Reads a Chrome trace written by runtime/profiler, for the tests: tracks by their thread_name, the complete
// ("X") slices on a track, the request lifecycle spans; and the nesting every trace must have.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::testing {

class TraceReader {
 public:
  using json = nlohmann::json;

  explicit TraceReader(const std::string& path) {
    std::ifstream in(path);
    const json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
      ADD_FAILURE() << path << " is not a Chrome trace";
      return;
    }
    events_ = doc["traceEvents"];
    for (const json& e : events_)
      if (e.value("ph", "") == "M" && e.value("name", "") == "thread_name")
        tids_[e["args"]["name"].get<std::string>()] = e["tid"].get<int>();
  }

  bool HasTrack(const std::string& track) const { return tids_.count(track) > 0; }

  // The complete slices on `track`, all of them or those named `name`.
  std::vector<json> Slices(const std::string& track, const std::string& name = "") const {
    std::vector<json> out;
    const auto it = tids_.find(track);
    if (it == tids_.end()) return out;
    for (const json& e : events_)
      if (e.value("ph", "") == "X" && e["tid"] == it->second && (name.empty() || e["name"] == name)) out.push_back(e);
    return out;
  }

  // The async begin/end events of request phases ("cat":"request").
  std::vector<json> RequestEvents() const {
    std::vector<json> out;
    for (const json& e : events_)
      if ((e.value("ph", "") == "b" || e.value("ph", "") == "e") && e.value("cat", "") == "request") out.push_back(e);
    return out;
  }

 private:
  json events_ = json::array();
  std::map<std::string, int> tids_;
};

inline int64_t Begin(const nlohmann::json& slice) { return slice["ts"].get<int64_t>(); }
inline int64_t End(const nlohmann::json& slice) { return Begin(slice) + slice["dur"].get<int64_t>(); }

// On a compute track, every slice but the steps is an op, inside some step and with its bytes and flops.
inline void ExpectOpsInsideSteps(const TraceReader& trace, const std::string& track) {
  const auto steps = trace.Slices(track, "step");
  ASSERT_FALSE(steps.empty()) << "no step on " << track;
  int ops = 0;
  for (const nlohmann::json& op : trace.Slices(track)) {
    if (op["name"] == "step") continue;
    ++ops;
    bool inside = false;
    for (const nlohmann::json& step : steps) inside = inside || (Begin(step) <= Begin(op) && End(op) <= End(step));
    EXPECT_TRUE(inside) << op.dump() << " lies outside every step on " << track;
    EXPECT_TRUE(op["args"].contains("bytes") && op["args"].contains("flops")) << op.dump();
  }
  EXPECT_GT(ops, 0) << "no op slices on " << track;
}

}  // namespace strata::testing
