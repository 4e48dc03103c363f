#include "router/routing_policy.h"

#include <algorithm>
#include <limits>

namespace strata {
namespace {

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// splitmix64's finalizer: spreads the combined key and backend hashes over all 64 bits.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Appends text to `out` up to `limit` characters in all; false once full.
bool Take(std::string& out, std::string_view text, size_t limit) {
  out.append(text.substr(0, limit - std::min(limit, out.size())));
  return out.size() < limit;
}

// A message's text: a string, or the "text" of its content parts.
void TakeContent(std::string& out, const nlohmann::json& content, size_t limit) {
  if (content.is_string()) {
    Take(out, content.get_ref<const std::string&>(), limit);
  } else if (content.is_array()) {
    for (const auto& part : content)
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        if (!Take(out, part["text"].get_ref<const std::string&>(), limit)) return;
  }
}

void TakePrompt(std::string& out, const nlohmann::json& prompt, size_t limit) {
  if (prompt.is_string()) {
    Take(out, prompt.get_ref<const std::string&>(), limit);
  } else if (prompt.is_array() && !prompt.empty()) {
    const auto& first = prompt.front();  // a batch of prompts: the first; token ids: the ids themselves
    if (first.is_string()) return TakePrompt(out, first, limit);
    if (first.is_array()) return TakePrompt(out, first, limit);
    for (const auto& id : prompt)
      if (!Take(out, id.dump() + ",", limit)) return;
  }
}

}  // namespace

Result<RoutingPolicy> ParseRoutingPolicy(const std::string& name) {
  if (name == "round-robin") return RoutingPolicy::kRoundRobin;
  if (name == "least-outstanding") return RoutingPolicy::kLeastOutstanding;
  if (name == "prefix-affinity") return RoutingPolicy::kPrefixAffinity;
  return Status::InvalidArgument("unknown routing policy '" + name +
                                 "': expected round-robin, least-outstanding or prefix-affinity");
}

const char* RoutingPolicyName(RoutingPolicy p) {
  switch (p) {
    case RoutingPolicy::kRoundRobin: return "round-robin";
    case RoutingPolicy::kLeastOutstanding: return "least-outstanding";
    case RoutingPolicy::kPrefixAffinity: return "prefix-affinity";
  }
  return "?";
}

std::optional<uint64_t> AffinityKey(const nlohmann::json& body, size_t prefix_chars) {
  if (!body.is_object() || prefix_chars == 0) return std::nullopt;
  std::string text;
  if (auto it = body.find("messages"); it != body.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (!m.is_object()) continue;
      if (auto role = m.find("role"); role != m.end() && role->is_string())
        if (!Take(text, role->get_ref<const std::string&>() + "\n", prefix_chars)) break;
      if (auto content = m.find("content"); content != m.end()) TakeContent(text, *content, prefix_chars);
      if (!Take(text, "\n", prefix_chars)) break;
    }
  } else if (auto p = body.find("prompt"); p != body.end()) {
    TakePrompt(text, *p, prefix_chars);
  }
  if (text.empty()) return std::nullopt;
  return Fnv1a(text);
}

std::shared_ptr<Backend> BackendPicker::LeastOutstanding(const BackendList& c) {
  // Ties rotate, so an idle set of backends is used round-robin rather than always the first.
  const size_t start = next_.fetch_add(1) % c.size();
  std::shared_ptr<Backend> best;
  for (size_t i = 0; i < c.size(); ++i) {
    const auto& b = c[(start + i) % c.size()];
    if (!best || b->outstanding() < best->outstanding()) best = b;
  }
  return best;
}

std::shared_ptr<Backend> BackendPicker::Pick(const BackendList& backends, std::optional<uint64_t> key,
                                             const BackendList& tried) {
  BackendList c;
  for (const auto& b : backends)
    if (b->healthy() && std::find(tried.begin(), tried.end(), b) == tried.end()) c.push_back(b);
  if (c.empty()) return nullptr;
  switch (policy_) {
    case RoutingPolicy::kRoundRobin: return c[next_.fetch_add(1) % c.size()];
    case RoutingPolicy::kLeastOutstanding: return LeastOutstanding(c);
    case RoutingPolicy::kPrefixAffinity: break;
  }
  if (!key) return LeastOutstanding(c);
  std::shared_ptr<Backend> best;
  uint64_t best_score = 0;
  int least = std::numeric_limits<int>::max();
  for (const auto& b : c) {
    const uint64_t score = Mix(*key ^ Fnv1a(b->url()));
    if (!best || score > best_score) best = b, best_score = score;
    least = std::min(least, b->outstanding());
  }
  if (best->outstanding() - least > max_imbalance_) return LeastOutstanding(c);
  return best;
}

}  // namespace strata
