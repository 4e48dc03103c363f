#include "server/gated_http_server.h"

#include <algorithm>
#include <exception>

#include "core/log.h"
#include "server/connection_stream.h"

namespace strata {
namespace {

// httplib's request processing, over connections that the gate accepts and frames.
class GatedServer : public httplib::Server {
 public:
  bool Process(httplib::Stream& strm, bool close_connection, bool& connection_closed) {
    return process_request(strm, close_connection, connection_closed, nullptr);
  }
  // httplib stops streaming responses once it sees its listening socket gone; it has none of its own here,
  // so this stands for it. Async-signal-safe (a lock-free atomic store).
  void MarkRunning(bool running) { svr_sock_ = running ? 0 : INVALID_SOCKET; }
};

constexpr unsigned kKeepAliveMaxRequests = 1000;

}  // namespace

struct GatedHttpServer::Impl {
  GatedServer svr;
  ConnectionGate gate;
  explicit Impl(GateConfig c) : gate(c) {
    svr.set_payload_max_length(c.framing.max_body);  // the gate refuses larger bodies first
    svr.set_keep_alive_max_count(kKeepAliveMaxRequests);  // these two only feed the Keep-Alive response header
    svr.set_keep_alive_timeout(std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(c.idle_timeout).count()));
  }
  void ServeRequest(std::unique_ptr<GateConnection> c);
};

GatedHttpServer::GatedHttpServer(GateConfig config) : impl_(std::make_unique<Impl>(config)) {
  // spdlog makes its registry (a function-local static) at its first use. Made here, before any worker thread,
  // rather than by whichever handlers log first: the guard of that static is inside libspdlog.so, which
  // ThreadSanitizer does not see, so two workers' first log lines were reported as a race.
  spdlog::default_logger_raw();
  // A handler's exception is a bug (bad input is an ApiError, never an exception): log what it was, and answer
  // 500, whose JSON body the routes' error handler writes. Without this, httplib answers 500 and logs nothing.
  impl_->svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "an exception that is not a std::exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{} {}: a handler threw: {}", req.method, req.path, what);
    res.status = 500;
    res.body.clear();  // whatever the handler wrote before it threw is not the answer: the error's JSON is
  });
}

GatedHttpServer::~GatedHttpServer() { Stop(); }

httplib::Server& GatedHttpServer::routes() { return impl_->svr; }

Status GatedHttpServer::Listen(const std::string& host, int port) {
  if (Status st = impl_->gate.Listen(host, port); !st.ok()) return st;
  if (!impl_->gate.stopping()) impl_->svr.MarkRunning(true);
  return Status::Ok();
}

int GatedHttpServer::port() const { return impl_->gate.port(); }
int GatedHttpServer::max_connections() const { return impl_->gate.max_connections(); }
bool GatedHttpServer::stopping() const { return impl_->gate.stopping(); }

void GatedHttpServer::Serve(int threads) {
  Impl& i = *impl_;
  if (i.gate.listen_fd() < 0) return;
  httplib::ThreadPool workers(static_cast<size_t>(std::max(1, threads)));
  i.gate.Run([&](std::unique_ptr<GateConnection> c) {
    // The pool takes copyable functions only; the job owns the connection again as soon as it runs.
    GateConnection* raw = c.release();
    workers.enqueue([&i, raw] { i.ServeRequest(std::unique_ptr<GateConnection>(raw)); });
  });
  workers.shutdown();  // finishes the requests in progress (streams stop: MarkRunning(false))
}

void GatedHttpServer::Impl::ServeRequest(std::unique_ptr<GateConnection> c) {
  ConnectionStream stream(*c);
  const bool close = ++c->served >= kKeepAliveMaxRequests || gate.stopping();
  bool client_closes = false;
  const bool ok = svr.Process(stream, close, client_closes);
  c->buf.erase(0, c->request_size);  // what remains was pipelined after this request
  c->request_size = 0;
  // An idle keep-alive connection must not keep the capacity of its last (up to 4 MiB) body.
  if (c->buf.capacity() > (64u << 10)) std::string(c->buf).swap(c->buf);
  gate.Release(std::move(c), ok && !close && !client_closes && !gate.stopping());
}

// Async-signal-safe: an atomic store and an eventfd write.
void GatedHttpServer::Stop() {
  impl_->svr.MarkRunning(false);
  impl_->gate.Stop();
}

}  // namespace strata
