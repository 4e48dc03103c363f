// Hands a streamed upstream response from the thread that reads it (the httplib::Client's content receiver)
// to the thread that writes it to the client (the server's chunked content provider). Bounded: the reader
// waits while `capacity` bytes are queued. Cancel() (the client went away or the router gave up) makes the
// reader's next push fail and shuts the upstream socket at once, so the backend sees the disconnect and
// stops generating.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace strata {

class StreamPipe {
 public:
  StreamPipe(size_t capacity, std::chrono::milliseconds stall) : capacity_(capacity), stall_(stall) {}

  // The upstream side.
  void Attach(httplib::Client* client);  // until Detach(), Cancel() stops this client
  void Detach();
  void SetHead(int status, std::string content_type);
  bool Push(const char* data, size_t n);  // false once cancelled, or after `stall` without room
  void Close(bool complete);             // the response ended: in full, or cut off

  // The client side.
  enum class Head { kReady, kFailed, kTimeout };
  Head WaitHead(std::chrono::milliseconds timeout);  // kFailed: closed before a head arrived
  int status() const;
  std::string content_type() const;
  enum class Next { kChunk, kEnd, kBroken, kIdle };
  Next Pop(std::string& chunk, std::chrono::milliseconds wait);  // kIdle: nothing within `wait`
  // A whole non-streamed answer; `complete` false when it was cut off or passed `limit` bytes (then cancelled).
  std::string ReadAll(size_t limit, bool& complete);
  void Cancel();
  bool cancelled() const;

 private:
  const size_t capacity_;
  const std::chrono::milliseconds stall_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  httplib::Client* client_ = nullptr;
  bool head_ = false, closed_ = false, complete_ = false, cancelled_ = false;
  int status_ = 0;
  std::string content_type_;
  std::deque<std::string> chunks_;
  size_t queued_ = 0;
};

}  // namespace strata
