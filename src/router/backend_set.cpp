#include "router/backend_set.h"

#include <fstream>
#include <sstream>

namespace strata {

Result<std::vector<BackendAddress>> ReadBackendsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read backends file " + path);
  std::string content(1u << 20, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (in.peek() != std::char_traits<char>::eof()) return Status::InvalidArgument("backends file " + path + " is over 1 MiB");
  std::vector<BackendAddress> out;
  std::istringstream lines(content);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const size_t e = line.find_last_not_of(" \t\r");
    auto a = ParseBackendUrl(line.substr(b, e - b + 1));
    if (!a.ok()) return Status::InvalidArgument(path + ":" + std::to_string(number) + ": " + a.status().message());
    if (out.size() == kMaxBackends) return Status::InvalidArgument(path + ": more than 1024 backends");
    out.push_back(std::move(*a));
  }
  return out;
}

BackendList BackendSet::Snapshot() const {
  std::lock_guard lock(mu_);
  return backends_;
}

void BackendSet::Replace(const std::vector<BackendAddress>& addresses) {
  std::lock_guard lock(mu_);
  BackendList next;
  for (const auto& a : addresses) {
    bool seen = false;
    for (const auto& n : next) seen = seen || n->url() == a.url;
    if (seen) continue;  // a URL listed twice is one backend
    std::shared_ptr<Backend> kept;
    for (const auto& b : backends_)
      if (b->url() == a.url) kept = b;
    next.push_back(kept ? kept : std::make_shared<Backend>(a));
  }
  backends_ = std::move(next);
}

}  // namespace strata
