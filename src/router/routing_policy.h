// Which backend takes a request. Round-robin and least-outstanding spread load; prefix-affinity sends requests
// that share a prompt prefix (the same system prompt, the same conversation) to the same backend, so its prefix
// cache already holds the prefix's KV blocks. Affinity is rendezvous hashing over the healthy backends: stable
// without a table to remember, and when a backend leaves only its own keys move. It yields to least-outstanding
// when the chosen backend is busier than the least busy one by more than `max_imbalance` requests, so one hot
// prefix cannot pile its whole load on one backend.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "router/backend.h"

namespace strata {

enum class RoutingPolicy { kRoundRobin, kLeastOutstanding, kPrefixAffinity };

Result<RoutingPolicy> ParseRoutingPolicy(const std::string& name);  // "round-robin", ...
const char* RoutingPolicyName(RoutingPolicy p);

// The affinity key of a request body: a hash of the first `prefix_chars` characters of its prompt text
// (/v1/completions: "prompt"; /v1/chat/completions: the messages' roles and text in order). None when the
// body has no prompt text.
std::optional<uint64_t> AffinityKey(const nlohmann::json& body, size_t prefix_chars);

class BackendPicker {
 public:
  BackendPicker(RoutingPolicy policy, int max_imbalance) : policy_(policy), max_imbalance_(max_imbalance) {}
  RoutingPolicy policy() const { return policy_; }

  // A healthy backend of `backends` that is not in `tried`; null when there is none.
  std::shared_ptr<Backend> Pick(const BackendList& backends, std::optional<uint64_t> key, const BackendList& tried);

 private:
  std::shared_ptr<Backend> LeastOutstanding(const BackendList& candidates);

  RoutingPolicy policy_;
  int max_imbalance_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace strata
