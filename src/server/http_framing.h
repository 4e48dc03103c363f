// HTTP/1.1 request framing for the connection gate: finds where a request's head ends and how long its body is,
// enforcing size limits as the bytes arrive, so that an oversized or malformed request is refused as soon as the
// limit is crossed rather than when a read times out. Pure (no sockets), incremental: each Scan() resumes where
// the previous one stopped, so a head that trickles in byte by byte costs O(size) in total.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

struct FramingLimits {
  size_t max_request_line = 8192;  // bytes, terminator included (as cpp-httplib counts): 414 beyond
  size_t max_header_line = 8192;   // bytes, terminator included: 431 beyond
  size_t max_head = 64 * 1024;     // request line + headers + blank line: 431 beyond
  size_t max_headers = 100;        // header lines: 431 beyond
  uint64_t max_body = 4u << 20;    // Content-Length: 413 beyond
};

// A refusal: the status and a message for the client.
struct FramingError {
  int status = 0;
  std::string message;
};

class RequestFramer {
 public:
  enum class State { kNeedMore, kHeadDone, kError };

  explicit RequestFramer(const FramingLimits& limits) : limits_(limits) {}

  // `buf` holds the bytes of this request received so far (it starts with the request line and only grows
  // between calls). Returns kHeadDone once the blank line ending the head is in `buf`.
  State Scan(std::string_view buf);

  size_t head_size() const { return head_size_; }         // bytes up to and including the blank line
  uint64_t body_size() const { return body_size_; }       // from Content-Length; 0 without one
  bool expect_continue() const { return expect_begin_ != kNone; }
  // The "Expect: 100-continue" line (with its terminator) as [begin, end) offsets into the head.
  size_t expect_begin() const { return expect_begin_; }
  size_t expect_end() const { return expect_end_; }
  const FramingError& error() const { return error_; }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  State Fail(int status, std::string message);
  State OnLine(std::string_view line, size_t begin, size_t end);  // a complete line without its terminator
  State OnHeader(std::string_view name, std::string_view value, size_t begin, size_t end);

  FramingLimits limits_;
  size_t line_start_ = 0;  // where the first incomplete line begins
  size_t headers_ = 0;
  size_t head_size_ = 0;
  bool have_length_ = false;
  uint64_t body_size_ = 0;
  size_t expect_begin_ = kNone, expect_end_ = kNone;
  State state_ = State::kNeedMore;
  FramingError error_;
};

// The JSON error body the server sends for `status`, in the OpenAI shape the rest of the API uses:
// {"error": {"message", "type", "param": null, "code": status}}.
std::string ErrorBody(int status, std::string_view message);

// A complete HTTP/1.1 response carrying ErrorBody(status, message), with "Connection: close".
std::string ErrorResponse(int status, std::string_view message);

}  // namespace strata
