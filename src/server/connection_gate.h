// The connection gate: owns the listening socket and every idle or half-received connection, on one epoll
// thread, so that a client only occupies a worker thread once a complete request (head and body) has arrived.
// Slow or hostile clients therefore cannot starve the worker pool: heads and bodies must arrive within
// deadlines whatever the trickle, oversized heads are refused as soon as a limit is crossed, and open
// connections are bounded per client address and in total. Everything it refuses gets a JSON error and a
// "Connection: close".
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/socket.h>

#include "core/status.h"
#include "server/http_framing.h"

namespace strata {

struct GateConfig {
  FramingLimits framing;
  int max_connections = 2048;            // open connections in all (503 beyond), clamped below RLIMIT_NOFILE
  int max_connections_per_client = 256;  // open connections per client IP address (429 beyond)
  std::chrono::milliseconds header_timeout{10'000};  // a request's head, from its first byte (a new
                                                     // connection also gets this long for that first byte)
  std::chrono::milliseconds body_timeout{60'000};    // its body, from the end of the head
  std::chrono::milliseconds idle_timeout{5'000};     // an idle keep-alive connection, for the next request
  // Bodies being received are buffered here until complete: their declared sizes together may not exceed
  // this (503 beyond), so many connections each sending a large body cannot exhaust memory.
  uint64_t max_pending_body_bytes = 512u << 20;
};

// One client connection. The gate owns it while it waits for a request; a worker owns it while it serves one.
struct GateConnection {
  using Clock = std::chrono::steady_clock;
  enum class Phase { kIdle, kHead, kBody, kLinger };

  int fd = -1;
  std::string peer;         // the client's IP address: the key of the per-client limit
  std::string buf;          // received bytes: the current request first, then any pipelined after it
  size_t request_size = 0;  // when handed to a worker: the current request's bytes at the front of `buf`
  unsigned served = 0;      // requests answered on this connection
  uint64_t body_reserved = 0;  // of GateConfig::max_pending_body_bytes, while its body is being received

  // The gate's own state.
  Phase phase = Phase::kIdle;
  Clock::time_point deadline;
  std::optional<RequestFramer> framer;
};

class ConnectionGate {
 public:
  // Receives each connection whose `buf` starts with a complete request of `request_size` bytes.
  using Dispatch = std::function<void(std::unique_ptr<GateConnection>)>;

  explicit ConnectionGate(GateConfig config);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  [[nodiscard]] Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  int listen_fd() const { return listen_fd_; }
  int max_connections() const { return config_.max_connections; }

  // Accepts and frames requests until Stop(), then closes every connection it holds.
  void Run(Dispatch dispatch);
  // Async-signal-safe: sets a flag and writes an eventfd.
  void Stop();
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  // From a worker once its request is answered: with `keep_alive`, `c->buf` holds what came after the request
  // and the gate waits for the next one without a thread; otherwise the gate closes the connection.
  void Release(std::unique_ptr<GateConnection> c, bool keep_alive);

 private:
  using Clock = GateConnection::Clock;
  struct Returned {
    std::unique_ptr<GateConnection> conn;
    bool keep_alive;
  };

  void AcceptAll();
  void Admit(int fd, std::string peer);
  void OnReadable(int fd);
  bool Advance(GateConnection& c);  // false once `c` has left the gate (dispatched or closing)
  void TakeReturns();
  void Expire(Clock::time_point now);
  void Refuse(GateConnection& c, int status, const std::string& message);
  void Linger(GateConnection& c);
  void Unreserve(GateConnection& c);
  void Hold(std::unique_ptr<GateConnection> c);  // into the epoll set
  std::unique_ptr<GateConnection> Unhold(int fd);
  void CloseNow(int fd);
  void Forget(const GateConnection& c);  // the counters
  void CloseAll();

  GateConfig config_;
  int listen_fd_ = -1, epoll_fd_ = -1, event_fd_ = -1;
  int port_ = -1;
  std::atomic<bool> stop_{false};
  Dispatch dispatch_;
  std::unordered_map<int, std::unique_ptr<GateConnection>> held_;  // gate thread only
  Clock::time_point accept_paused_until_{};
  bool accept_paused_ = false;
  uint64_t body_bytes_reserved_ = 0;  // gate thread only

  std::mutex mu_;  // guards what workers touch: the counters and the returns
  int open_ = 0;
  std::unordered_map<std::string, int> per_client_;
  std::vector<Returned> returns_;
  bool exited_ = false;  // Run() has finished: workers close their connections themselves
};

// The IP address (text) and port of a socket address.
void AddressText(const sockaddr_storage& a, std::string& ip, int& port);

// Raises this process' RLIMIT_NOFILE soft limit to its hard limit (so thousands of connections can be open);
// returns the resulting soft limit.
long RaiseOpenFileLimit();

}  // namespace strata
