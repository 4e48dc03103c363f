// Connection handling under slow, oversized or hostile clients (issue 12): the request framing limits, the
// header/body deadlines, the per-client and total connection limits, and that normal clients keep being
// served meanwhile; plus keep-alive, pipelining and Expect: 100-continue through the connection gate.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "local_server.h"
#include "server/http_framing.h"

namespace strata::testing {
namespace {

using nlohmann::json;

// ---- The framing on its own (no sockets) ----

RequestFramer::State ScanAll(RequestFramer& f, const std::string& s) { return f.Scan(s); }

TEST(RequestFramer, CompleteHeadAndBodyLength) {
  RequestFramer f(FramingLimits{});
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\ncontent-length:  12 \r\n\r\n{\"prompt\":1}";
  ASSERT_EQ(ScanAll(f, req), RequestFramer::State::kHeadDone);
  EXPECT_EQ(f.head_size(), req.size() - 12);
  EXPECT_EQ(f.body_size(), 12u);
  EXPECT_FALSE(f.expect_continue());
}

TEST(RequestFramer, ByteByByteMatchesWhole) {
  const std::string req = "GET /health HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\nGET /next";
  RequestFramer f(FramingLimits{});
  RequestFramer::State st = RequestFramer::State::kNeedMore;
  size_t n = 0;
  while (st == RequestFramer::State::kNeedMore && n < req.size()) st = f.Scan(std::string_view(req).substr(0, ++n));
  ASSERT_EQ(st, RequestFramer::State::kHeadDone);
  EXPECT_EQ(f.head_size(), req.find("GET /next"));
  EXPECT_EQ(n, f.head_size());  // done exactly when the blank line arrived
}

TEST(RequestFramer, LongRequestLineIs414BeforeItEnds) {
  RequestFramer f(FramingLimits{});
  const std::string partial = "GET /" + std::string(8187, 'a');  // 8192 bytes and no line end yet
  EXPECT_EQ(f.Scan(partial.substr(0, 8191)), RequestFramer::State::kNeedMore);
  ASSERT_EQ(f.Scan(partial), RequestFramer::State::kError);
  EXPECT_EQ(f.error().status, 414);
}

TEST(RequestFramer, HeaderLimits) {
  FramingLimits limits;
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Scan("GET / HTTP/1.1\r\nX: " + std::string(9000, 'b')), RequestFramer::State::kError);
    EXPECT_EQ(f.error().status, 431);
  }
  {
    std::string head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
    RequestFramer f(limits);
    EXPECT_EQ(f.Scan(head + "\r\n"), RequestFramer::State::kError);
    EXPECT_EQ(f.error().status, 431);
  }
  {
    std::string head = "GET / HTTP/1.1\r\n";
    while (head.size() < 70000) head += "X-Long: " + std::string(8000, 'c') + "\r\n";
    limits.max_headers = 1000;
    RequestFramer f(limits);
    EXPECT_EQ(f.Scan(head), RequestFramer::State::kError);
    EXPECT_EQ(f.error().status, 431);
  }
}

TEST(RequestFramer, BodyFraming) {
  const auto status = [](const std::string& headers) {
    RequestFramer f(FramingLimits{.max_body = 1000});
    const auto st = f.Scan("POST /v1/completions HTTP/1.1\r\n" + headers + "\r\n");
    return st == RequestFramer::State::kError ? f.error().status : 0;
  };
  EXPECT_EQ(status("Content-Length: 1000\r\n"), 0);
  EXPECT_EQ(status("Content-Length: 1001\r\n"), 413);
  EXPECT_EQ(status("Content-Length: 99999999999999999999999999\r\n"), 413);
  EXPECT_EQ(status("Content-Length: 12a\r\n"), 400);
  EXPECT_EQ(status("Content-Length: -1\r\n"), 400);
  EXPECT_EQ(status("Content-Length: 5\r\nContent-Length: 5\r\n"), 0);
  EXPECT_EQ(status("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
  EXPECT_EQ(status("Transfer-Encoding: chunked\r\n"), 411);
  EXPECT_EQ(status("no colon here\r\n"), 400);
}

TEST(RequestFramer, ExpectContinueLocated) {
  const std::string head = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  RequestFramer f(FramingLimits{});
  ASSERT_EQ(f.Scan(head), RequestFramer::State::kHeadDone);
  ASSERT_TRUE(f.expect_continue());
  EXPECT_EQ(head.substr(f.expect_begin(), f.expect_end() - f.expect_begin()), "Expect: 100-Continue\r\n");
}

TEST(RequestFramer, ErrorResponseIsOpenAiJson) {
  const std::string r = ErrorResponse(429, "too many");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
  const json body = json::parse(r.substr(r.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["error"]["message"], "too many");
  EXPECT_EQ(body["error"]["code"], 429);
  EXPECT_TRUE(body["error"]["param"].is_null());
}

// ---- Raw sockets against a real server ----

// A client socket, optionally bound to a source address of the 127/8 loopback (a "different client").
class RawClient {
 public:
  explicit RawClient(int port, const char* source = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    if (source) {
      inet_pton(AF_INET, source, &a.sin_addr);
      if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << "bind " << source;
    }
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { close(fd_); }
  RawClient(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Whether something (data or end of stream) arrives within `ms`.
  bool Readable(int ms) {
    if (!buffered_.empty()) return true;
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, ms) > 0;
  }
  // One HTTP response (head plus Content-Length body, or up to end of stream), waiting at most `ms` for each
  // piece. Empty if none came.
  std::string ReadResponse(int ms = 20000) {
    for (;;) {
      const size_t end = buffered_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t cl = buffered_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buffered_.substr(cl + 16));
        if (buffered_.size() >= end + 4 + length) {
          std::string r = buffered_.substr(0, end + 4 + length);
          buffered_.erase(0, r.size());
          return r;
        }
      }
      if (!Fill(ms)) {
        std::string r = std::move(buffered_);
        buffered_.clear();
        return r;
      }
    }
  }
  // Whether the server closed the connection (end of stream or reset) within `ms`, dropping data before it.
  bool ClosedByPeer(int ms = 20000) {
    buffered_.clear();
    while (Fill(ms)) buffered_.clear();
    return eof_;
  }

 private:
  bool Fill(int ms) {
    if (eof_ || !Readable(ms)) return false;
    char b[4096];
    const ssize_t n = recv(fd_, b, sizeof b, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffered_.append(b, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffered_;
};

int StatusOf(const std::string& response) {
  if (!response.starts_with("HTTP/1.1 ") || response.size() < 12) return -1;
  return std::stoi(response.substr(9, 3));
}

json BodyOf(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? json() : json::parse(response.substr(end + 4), nullptr, false);
}

std::string CompletionRequest(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

const std::string kSmallCompletion = json{{"prompt", "Once"}, {"max_tokens", 2}}.dump();

class ServerConnections : public ::testing::Test {
 protected:
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }
};

// The refusal comes when the limit is crossed: with a 30 s header deadline, a timeout would be a 408, and
// cpp-httplib alone would drop the connection without an answer after its 5 s read timeout.
TEST_F(ServerConnections, OversizedRequestLineIs414AtOnce) {
  LocalServer server(ServerOptions{.header_timeout_s = 30});
  RawClient c(server.port());
  ASSERT_TRUE(c.Send("GET /" + std::string(9000, 'a')));  // no line end
  const std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 414) << r;
  EXPECT_EQ(BodyOf(r)["error"]["code"], 414);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerConnections, OversizedHeaderAndTooManyHeadersAre431) {
  LocalServer server(ServerOptions{.header_timeout_s = 30});
  {
    RawClient c(server.port());
    ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\nX-Big: " + std::string(9000, 'b')));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 431);
  }
  {
    std::string head = "GET /health HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
    RawClient c(server.port());
    ASSERT_TRUE(c.Send(head + "\r\n"));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 431);
  }
  EXPECT_EQ(server.Post("/v1/completions", kSmallCompletion).first, 200);
}

// 413 comes before the body is sent (cpp-httplib alone waited for it until its 5 s read timeout).
TEST_F(ServerConnections, BodyOverLimitIs413BeforeTheBody) {
  LocalServer server(ServerOptions{.max_body_bytes = 64 * 1024, .header_timeout_s = 30, .body_timeout_s = 30});
  RawClient c(server.port());
  ASSERT_TRUE(c.Send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  const std::string r = c.ReadResponse(4000);
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(ServerConnections, ChunkedRequestBodyIs411) {
  LocalServer server;
  RawClient c(server.port());
  const std::string body = kSmallCompletion;
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  ASSERT_TRUE(c.Send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n"));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 411) << r;
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("Content-Length"), std::string::npos);
}

// One header line every 300 ms never trips a per-read timeout, but the head as a whole is late.
TEST_F(ServerConnections, TricklingClientGets408AndIsClosed) {
  LocalServer server(ServerOptions{.header_timeout_s = 1});
  RawClient c(server.port());
  ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\n"));
  for (int i = 0; i < 40 && !c.Readable(300); ++i) c.Send("X-Trickle-" + std::to_string(i) + ": 1\r\n");
  const std::string r = c.ReadResponse(1000);
  EXPECT_EQ(StatusOf(r), 408) << r;
  EXPECT_TRUE(c.ClosedByPeer());
}

// Streams a chat-less completion and returns the SSE text.
std::pair<int, std::string> PostStreaming(const LocalServer& server) {
  auto client = server.Client();
  auto res = client.Post("/v1/completions",
                         json{{"prompt", "Once"}, {"max_tokens", 4}, {"stream", true}}.dump(), "application/json");
  if (!res) return {-1, ""};
  return {res->status, res->body};
}

TEST_F(ServerConnections, PerClientLimitWhileOthersAreServed) {
  LocalServer server(ServerOptions{.max_connections_per_client = 20, .header_timeout_s = 60});
  std::vector<std::unique_ptr<RawClient>> attackers;
  for (int i = 0; i < 40; ++i) {
    attackers.push_back(std::make_unique<RawClient>(server.port(), "127.0.0.2"));
    ASSERT_TRUE(attackers.back()->connected());
    attackers.back()->Send("GET /health HTTP/1.1\r\nX-Slow: 1\r\n");  // and nothing more
  }
  int refused = 0;
  for (size_t i = 20; i < attackers.size(); ++i) {
    const std::string r = attackers[i]->ReadResponse();
    EXPECT_EQ(StatusOf(r), 429) << r;
    refused += StatusOf(r) == 429;
  }
  EXPECT_EQ(refused, 20);
  // Another address is served normally, including a stream, while the 20 admitted ones hang on.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(server.Post("/v1/completions", kSmallCompletion).first, 200);
  auto [status, sse] = PostStreaming(server);
  EXPECT_EQ(status, 200);
  EXPECT_NE(sse.find("data: [DONE]"), std::string::npos) << sse;
  for (size_t i = 0; i < 20; ++i) EXPECT_FALSE(attackers[i]->Readable(0)) << i;  // still open, unanswered
}

TEST_F(ServerConnections, TotalLimitIs503) {
  LocalServer server(ServerOptions{.max_connections = 5, .header_timeout_s = 60});
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 5; ++i) held.push_back(std::make_unique<RawClient>(server.port()));
  // Make sure all five are accepted (answered on a kept-alive connection) before the sixth comes.
  for (auto& c : held) {
    ASSERT_TRUE(c->Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_EQ(StatusOf(c->ReadResponse()), 200);
  }
  RawClient extra(server.port());
  ASSERT_TRUE(extra.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(extra.ReadResponse()), 503);
  held.pop_back();  // one closes: room again
  for (int attempt = 0; attempt < 100; ++attempt) {
    RawClient again(server.port());
    again.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const int status = StatusOf(again.ReadResponse());
    if (status == 200) return;
    ASSERT_EQ(status, 503);  // the close may not have been seen yet
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no connection admitted after one closed";
}

// Bodies still arriving share one memory budget: a second large one waits its turn with a 503.
TEST_F(ServerConnections, PendingBodiesShareABudget) {
  LocalServer server(ServerOptions{.max_body_bytes = 64 * 1024, .header_timeout_s = 30, .body_timeout_s = 30,
                                   .max_pending_body_bytes = 100 * 1024});
  std::string body = kSmallCompletion;
  body.resize(60000, ' ');  // JSON allows trailing whitespace
  const std::string request = CompletionRequest(body);
  const size_t head = request.size() - body.size();
  RawClient first(server.port());
  ASSERT_TRUE(first.Send(request.substr(0, head + 10)));
  // The first body's reservation is made when its head is framed; the second, same size, no longer fits.
  // A request answered on a connection made after the first head was sent shows the gate has read that head
  // (it handles every ready connection of a wakeup before waiting again).
  ASSERT_EQ(server.Post("/v1/completions", kSmallCompletion).first, 200);
  RawClient second(server.port());
  ASSERT_TRUE(second.Send(request.substr(0, head)));
  EXPECT_EQ(StatusOf(second.ReadResponse()), 503);
  ASSERT_TRUE(first.Send(request.substr(head + 10)));
  EXPECT_EQ(StatusOf(first.ReadResponse()), 200);
  // The budget is free again once the worker has handed the first connection back to the gate, which may come
  // a moment after its response reached us.
  for (int attempt = 0; attempt < 100; ++attempt) {
    RawClient third(server.port());
    ASSERT_TRUE(third.Send(request));
    const int status = StatusOf(third.ReadResponse());
    if (status == 200) return;
    ASSERT_EQ(status, 503);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "the second large body was never admitted after the first completed";
}

TEST_F(ServerConnections, PipelinedRequestsAreAllAnswered) {
  LocalServer server;
  RawClient c(server.port());
  ASSERT_TRUE(c.Send(CompletionRequest(kSmallCompletion) + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n" +
                     "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string first = c.ReadResponse();
  EXPECT_EQ(StatusOf(first), 200) << first;
  EXPECT_EQ(BodyOf(first)["object"], "text_completion");
  const std::string second = c.ReadResponse();
  EXPECT_EQ(StatusOf(second), 200) << second;
  EXPECT_EQ(BodyOf(second)["object"], "list");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(ServerConnections, KeepAliveReusesTheConnection) {
  LocalServer server;
  {
    RawClient c(server.port());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c.Send(CompletionRequest(kSmallCompletion)));
      const std::string r = c.ReadResponse();
      ASSERT_EQ(StatusOf(r), 200) << r;
      EXPECT_EQ(r.find("Connection: close"), std::string::npos);
    }
  }
  auto client = server.Client();
  client.set_keep_alive(true);
  for (int i = 0; i < 2; ++i) {
    auto res = client.Post("/v1/completions", kSmallCompletion, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
}

TEST_F(ServerConnections, ExpectContinue) {
  LocalServer server(ServerOptions{.header_timeout_s = 30});
  RawClient c(server.port());
  const std::string body = kSmallCompletion;
  ASSERT_TRUE(c.Send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  const std::string cont = c.ReadResponse();
  EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Send(body));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200) << r;  // and no second "100 Continue" before it
  EXPECT_EQ(BodyOf(r)["object"], "text_completion");
}

TEST_F(ServerConnections, ProtectMetrics) {
  LocalServer server(ServerOptions{.api_key = "sekrit", .protect_metrics = true});
  auto c = server.Client();
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 401);
  auto with_key = c.Get("/metrics", httplib::Headers{{"Authorization", "Bearer sekrit"}});
  ASSERT_TRUE(with_key);
  EXPECT_EQ(with_key->status, 200);
  EXPECT_NE(with_key->body.find("vllm:num_requests_running"), std::string::npos);
  auto near_miss = c.Get("/metrics", httplib::Headers{{"Authorization", "Bearer sekrit2"}});
  ASSERT_TRUE(near_miss);
  EXPECT_EQ(near_miss->status, 401);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace strata::testing
