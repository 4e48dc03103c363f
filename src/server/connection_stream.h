// The httplib::Stream a worker serves one request over: reads come from the request bytes the connection gate
// has already received (never from the socket, so a slow client cannot hold the worker), writes go to the
// non-blocking socket with a timeout.
#pragma once

#include <httplib.h>

#include "server/connection_gate.h"

namespace strata {

class ConnectionStream : public httplib::Stream {
 public:
  // Serves the first `c.request_size` bytes of `c.buf`.
  explicit ConnectionStream(GateConnection& c) : c_(c) {}

  bool is_readable() const override { return pos_ < c_.request_size; }
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  // httplib only uses this to refuse descriptors >= FD_SETSIZE, which its select() could not watch; we never
  // select() on it, so any connection passes.
  socket_t socket() const override { return c_.fd < FD_SETSIZE ? c_.fd : 0; }

 private:
  GateConnection& c_;
  size_t pos_ = 0;
};

}  // namespace strata
