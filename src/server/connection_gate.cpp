#include "server/connection_gate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace strata {
namespace {

constexpr auto kScanInterval = std::chrono::milliseconds(200);
// After a refusal or a "Connection: close", how long we keep reading (and dropping) what the client still
// sends before closing: closing with unread bytes would make the kernel send a reset, which can destroy our
// response before the client has read it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReservedFds = 128;  // for the model, logs and the engine, below RLIMIT_NOFILE

// Best effort: the socket is non-blocking and an error response is small.
void SendBestEffort(int fd, const std::string& data) { (void)!send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT); }

// Reads and drops what has already arrived (up to a bound, so a fast sender cannot keep the gate here), so
// that close() sends a FIN rather than a reset. Returns the last recv() result: 0 at end of stream.
ssize_t DrainReceived(int fd) {
  char scratch[4096];
  ssize_t n = 0;
  for (size_t total = 0; total < kReadChunk && (n = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT)) > 0;)
    total += static_cast<size_t>(n);
  return n;
}

void EpollAdd(int epoll_fd, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int OpenListener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

void AddressText(const sockaddr_storage& a, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  }
  ip = text;
}

long RaiseOpenFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur == RLIM_INFINITY ? (1L << 20) : static_cast<long>(lim.rlim_cur);
}

ConnectionGate::ConnectionGate(GateConfig config) : config_(std::move(config)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    const long usable = std::max<long>(16, static_cast<long>(lim.rlim_cur) - kReservedFds);
    if (config_.max_connections > usable) {
      spdlog::warn("max connections lowered from {} to {} (open file limit {})", config_.max_connections, usable,
                   static_cast<long>(lim.rlim_cur));
      config_.max_connections = static_cast<int>(usable);
    }
  }
}

ConnectionGate::~ConnectionGate() {
  CloseAll();
  for (int fd : {listen_fd_, epoll_fd_, event_fd_})
    if (fd >= 0) close(fd);
}

Status ConnectionGate::Listen(const std::string& host, int port) {
  if (epoll_fd_ < 0 || event_fd_ < 0) return Status::IoError("cannot create the server's epoll or eventfd");
  if (port < 0 || port > 65535) return Status::InvalidArgument("port out of range: " + std::to_string(port));
  listen_fd_ = OpenListener(host, port);
  if (listen_fd_ < 0)
    return Status::IoError("cannot listen on " + host + ":" + std::to_string(port) +
                           " (address in use or not available)");
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return Status::Ok();
}

void ConnectionGate::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  if (event_fd_ >= 0) (void)!write(event_fd_, &one, sizeof one);
}

void ConnectionGate::Run(Dispatch dispatch) {
  dispatch_ = std::move(dispatch);
  EpollAdd(epoll_fd_, listen_fd_);
  EpollAdd(epoll_fd_, event_fd_);
  std::vector<epoll_event> events(256);
  auto next_scan = Clock::now() + kScanInterval;
  while (!stopping()) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                             static_cast<int>(kScanInterval.count()));
    for (int i = 0; i < n && !stopping(); ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == listen_fd_) {
        AcceptAll();
      } else if (fd == event_fd_) {
        uint64_t count;
        (void)!read(event_fd_, &count, sizeof count);
        TakeReturns();
      } else {
        OnReadable(fd);
      }
    }
    const auto now = Clock::now();
    if (now >= next_scan) {
      Expire(now);
      next_scan = now + kScanInterval;
    }
  }
  CloseAll();
}

void ConnectionGate::AcceptAll() {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      std::string ip;
      int port = 0;
      AddressText(addr, ip, port);
      Admit(fd, std::move(ip));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: stop watching the listener for a moment instead of spinning on it.
      spdlog::warn("accept failed: {}; pausing new connections", std::strerror(errno));
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      accept_paused_ = true;
      accept_paused_until_ = Clock::now() + kScanInterval;
    }
    return;
  }
}

void ConnectionGate::Admit(int fd, std::string peer) {
  int refuse = 0;
  std::string message;
  {
    std::lock_guard lock(mu_);
    int& mine = per_client_[peer];
    if (open_ >= config_.max_connections) {
      refuse = 503;
      message = "the server has too many open connections (" + std::to_string(config_.max_connections) +
                "); retry later";
    } else if (mine >= config_.max_connections_per_client) {
      refuse = 429;
      message = "too many open connections from your address (limit " +
                std::to_string(config_.max_connections_per_client) + ")";
    } else {
      ++open_;
      ++mine;
    }
    if (mine == 0) per_client_.erase(peer);
  }
  if (refuse) {
    spdlog::debug("connection from {} refused: {} {}", peer, refuse, message);
    SendBestEffort(fd, ErrorResponse(refuse, message));
    DrainReceived(fd);
    shutdown(fd, SHUT_WR);  // a FIN after the response, so it is less likely lost to a reset on close
    close(fd);
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // SSE sends one small chunk per token
  auto c = std::make_unique<GateConnection>();
  c->fd = fd;
  c->peer = std::move(peer);
  c->deadline = Clock::now() + config_.header_timeout;
  Hold(std::move(c));
}

void ConnectionGate::Hold(std::unique_ptr<GateConnection> c) {
  EpollAdd(epoll_fd_, c->fd);
  held_[c->fd] = std::move(c);
}

std::unique_ptr<GateConnection> ConnectionGate::Unhold(int fd) {
  auto it = held_.find(fd);
  if (it == held_.end()) return nullptr;
  auto c = std::move(it->second);
  held_.erase(it);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  return c;
}

void ConnectionGate::Forget(const GateConnection& c) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = per_client_.find(c.peer);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
}

void ConnectionGate::CloseNow(int fd) {
  auto c = Unhold(fd);
  if (!c) return;
  Unreserve(*c);
  close(c->fd);
  Forget(*c);
}

void ConnectionGate::OnReadable(int fd) {
  auto it = held_.find(fd);
  if (it == held_.end()) return;
  GateConnection& c = *it->second;
  if (c.phase == GateConnection::Phase::kLinger) {
    const ssize_t n = DrainReceived(fd);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) CloseNow(fd);
    return;
  }
  char chunk[kReadChunk];
  // A bounded number of reads per wakeup keeps one fast sender from holding up the others (epoll is
  // level-triggered: the rest is read on the next round).
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      c.buf.append(chunk, static_cast<size_t>(n));
      if (!Advance(c)) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    return CloseNow(fd);  // the client closed (or reset) before completing a request: nobody to answer
  }
}

bool ConnectionGate::Advance(GateConnection& c) {
  using Phase = GateConnection::Phase;
  if (c.phase == Phase::kIdle) {
    // A client may send stray line breaks between requests (RFC 9112, section 2.2): skip them.
    c.buf.erase(0, std::min(c.buf.size(), c.buf.find_first_not_of("\r\n")));
    if (c.buf.empty()) return true;
    c.phase = Phase::kHead;
    c.framer.emplace(config_.framing);
    c.deadline = Clock::now() + config_.header_timeout;
  }
  if (c.phase == Phase::kHead) {
    const auto state = c.framer->Scan(c.buf);
    if (state == RequestFramer::State::kError) {
      Refuse(c, c.framer->error().status, c.framer->error().message);
      return false;
    }
    if (state == RequestFramer::State::kNeedMore) return true;
    size_t head = c.framer->head_size();
    if (c.framer->expect_continue()) {
      // We answer the 100 ourselves; httplib must not see the header, or it would send a second one.
      c.buf.erase(c.framer->expect_begin(), c.framer->expect_end() - c.framer->expect_begin());
      head -= c.framer->expect_end() - c.framer->expect_begin();
    }
    c.request_size = head + c.framer->body_size();
    if (c.framer->body_size() > config_.max_pending_body_bytes - body_bytes_reserved_) {
      Refuse(c, 503, "the server is receiving too many request bodies at once; retry later");
      return false;
    }
    c.body_reserved = c.framer->body_size();
    body_bytes_reserved_ += c.body_reserved;
    if (c.framer->expect_continue() && c.buf.size() < c.request_size)
      SendBestEffort(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    c.phase = Phase::kBody;
    c.deadline = Clock::now() + config_.body_timeout;
  }
  if (c.buf.size() < c.request_size) return true;
  // The body stays reserved until the worker hands the connection back (TakeReturns): a complete request
  // waiting for a free worker holds its body in memory just the same.
  c.phase = Phase::kIdle;
  c.framer.reset();
  dispatch_(Unhold(c.fd));
  return false;
}

void ConnectionGate::Refuse(GateConnection& c, int status, const std::string& message) {
  spdlog::debug("request from {} refused: {} {}", c.peer, status, message);
  SendBestEffort(c.fd, ErrorResponse(status, message));
  Linger(c);
}

void ConnectionGate::Unreserve(GateConnection& c) {
  body_bytes_reserved_ -= c.body_reserved;
  c.body_reserved = 0;
}

void ConnectionGate::Linger(GateConnection& c) {
  Unreserve(c);
  shutdown(c.fd, SHUT_WR);
  c.phase = GateConnection::Phase::kLinger;
  c.framer.reset();
  c.buf.clear();
  c.buf.shrink_to_fit();
  c.deadline = Clock::now() + kLingerTime;
}

void ConnectionGate::Release(std::unique_ptr<GateConnection> c, bool keep_alive) {
  {
    std::lock_guard lock(mu_);
    if (!exited_) {
      returns_.push_back({std::move(c), keep_alive});
    }
  }
  if (c) {  // the gate has stopped
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    Forget(*c);
    return;
  }
  const uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
}

void ConnectionGate::TakeReturns() {
  std::vector<Returned> returns;
  {
    std::lock_guard lock(mu_);
    returns.swap(returns_);
  }
  for (auto& r : returns) {
    GateConnection& c = *r.conn;
    Unreserve(c);
    c.phase = GateConnection::Phase::kIdle;
    c.request_size = 0;
    c.deadline = Clock::now() + config_.idle_timeout;
    Hold(std::move(r.conn));
    if (!r.keep_alive)
      Linger(c);
    else if (!c.buf.empty())
      Advance(c);  // a pipelined request may already be complete
  }
}

void ConnectionGate::Expire(Clock::time_point now) {
  if (accept_paused_ && now >= accept_paused_until_) {
    accept_paused_ = false;
    EpollAdd(epoll_fd_, listen_fd_);
  }
  std::vector<int> expired;
  for (auto& [fd, c] : held_)
    if (c->deadline <= now) expired.push_back(fd);
  for (int fd : expired) {
    GateConnection& c = *held_[fd];
    if (c.phase == GateConnection::Phase::kHead || c.phase == GateConnection::Phase::kBody)
      Refuse(c, 408, c.phase == GateConnection::Phase::kHead ? "the request head did not arrive in time"
                                                             : "the request body did not arrive in time");
    else
      CloseNow(fd);  // idle, or done lingering
  }
}

void ConnectionGate::CloseAll() {
  std::vector<Returned> returns;
  {
    std::lock_guard lock(mu_);
    exited_ = true;
    returns.swap(returns_);
  }
  for (auto& r : returns) {
    close(r.conn->fd);
    Forget(*r.conn);
  }
  std::vector<int> fds;
  for (auto& [fd, c] : held_) fds.push_back(fd);
  for (int fd : fds) CloseNow(fd);
}

}  // namespace strata
