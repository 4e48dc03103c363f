#include "server/http_framing.h"

#include "server/api_error.h"

namespace strata {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Content-Length: one or more digits, checked against `limit` before each step so it cannot overflow.
// Returns false when malformed; sets `too_big` when it is well-formed but larger than `limit`.
bool ParseLength(std::string_view s, uint64_t limit, uint64_t& out, bool& too_big) {
  if (s.empty()) return false;
  uint64_t v = 0;
  too_big = false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (too_big || v > limit / 10 || digit > limit - v * 10) {
      too_big = true;  // keep scanning: a malformed value is still a 400
      continue;
    }
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

RequestFramer::State RequestFramer::Fail(int status, std::string message) {
  error_ = {status, std::move(message)};
  return state_ = State::kError;
}

RequestFramer::State RequestFramer::Scan(std::string_view buf) {
  while (state_ == State::kNeedMore) {
    const size_t nl = buf.find('\n', line_start_);
    const size_t limit = line_start_ == 0 ? limits_.max_request_line : limits_.max_header_line;
    const int status = line_start_ == 0 ? 414 : 431;
    const char* what = line_start_ == 0 ? "request line" : "header line";
    const size_t end = nl == std::string_view::npos ? buf.size() : nl + 1;
    // An unfinished line already as long as the limit cannot end within it (it still needs its '\n').
    if (end - line_start_ > limit || (nl == std::string_view::npos && end - line_start_ >= limit))
      return Fail(status, std::string("the ") + what + " is longer than " + std::to_string(limit) + " bytes");
    if (end > limits_.max_head)
      return Fail(431, "the request head is larger than " + std::to_string(limits_.max_head) + " bytes");
    if (nl == std::string_view::npos) return state_;
    std::string_view line = buf.substr(line_start_, nl - line_start_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t begin = line_start_;
    line_start_ = end;
    OnLine(line, begin, end);
  }
  return state_;
}

RequestFramer::State RequestFramer::OnLine(std::string_view line, size_t begin, size_t end) {
  if (begin == 0) {
    if (line.empty()) return Fail(400, "malformed HTTP request: empty request line");
    return state_;
  }
  if (line.empty()) {
    head_size_ = end;
    return state_ = State::kHeadDone;
  }
  if (++headers_ > limits_.max_headers)
    return Fail(431, "the request has more than " + std::to_string(limits_.max_headers) + " header lines");
  if (line.front() == ' ' || line.front() == '\t') return Fail(400, "malformed HTTP request: folded header line");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return Fail(400, "malformed HTTP request: header line without a name");
  return OnHeader(line.substr(0, colon), Trim(line.substr(colon + 1)), begin, end);
}

RequestFramer::State RequestFramer::OnHeader(std::string_view name, std::string_view value, size_t begin,
                                             size_t end) {
  if (IEquals(name, "Transfer-Encoding"))
    return Fail(411, "chunked or other transfer-encoded request bodies are not supported: send Content-Length");
  if (IEquals(name, "Content-Length")) {
    uint64_t n = 0;
    bool too_big = false;
    if (!ParseLength(value, limits_.max_body, n, too_big)) return Fail(400, "malformed Content-Length");
    if (too_big)
      return Fail(413, "the request body is larger than the server's limit of " + std::to_string(limits_.max_body) +
                           " bytes");
    if (have_length_ && n != body_size_) return Fail(400, "conflicting Content-Length headers");
    have_length_ = true;
    body_size_ = n;
  } else if (IEquals(name, "Expect") && IEquals(value, "100-continue")) {
    expect_begin_ = begin;
    expect_end_ = end;
  }
  return state_;
}

std::string ErrorBody(int status, std::string_view message) {
  const char* type = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
  return ApiError{status, std::string(message), type, ""}.ToJson().dump();
}

std::string ErrorResponse(int status, std::string_view message) {
  const std::string body = ErrorBody(status, message);
  return "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace strata
