#include "server/connection_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace strata {
namespace {

constexpr int kWriteTimeoutMs = 5000;

}  // namespace

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  // httplib reads the head a byte at a time and the body by its length, so it never asks beyond the request;
  // 0 (end of stream) past it also keeps a body read "until close" from eating a pipelined request.
  const size_t n = std::min(size, c_.request_size - pos_);
  std::memcpy(ptr, c_.buf.data() + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

bool ConnectionStream::is_writable() const {
  pollfd p{c_.fd, POLLOUT, 0};
  int r;
  while ((r = poll(&p, 1, kWriteTimeoutMs)) < 0 && errno == EINTR) {
  }
  if (r <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) || !(p.revents & POLLOUT)) return false;
  // Like httplib's is_socket_alive: a readable socket whose peek sees end-of-stream means the client left,
  // and a streaming response must stop (and free its sequence) rather than generate for nobody.
  pollfd in{c_.fd, POLLIN, 0};
  if (poll(&in, 1, 0) <= 0) return true;
  char b;
  const ssize_t n = recv(c_.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (!is_writable()) return -1;
  ssize_t n;
  while ((n = send(c_.fd, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR) {
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;  // httplib retries the rest
  return n;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getpeername(c_.fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) AddressText(a, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(c_.fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) AddressText(a, ip, port);
}

}  // namespace strata
