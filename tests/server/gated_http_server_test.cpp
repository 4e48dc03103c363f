// GatedHttpServer on its own: a handler that throws is a logged 500 with the API's JSON error (even when it had
// begun a body), and the server keeps serving.
#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "server/api_error.h"
#include "server/gated_http_server.h"

namespace strata::gated_http_server_test {
namespace {

// Sends spdlog's default logger to a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(GatedHttpServer, AHandlerThatThrowsIsALogged500AndTheServerGoesOn) {
  CapturedLog log;
  GatedHttpServer http(GateConfig{});
  http.routes().Get("/boom", [](const httplib::Request&, httplib::Response&) {
    throw std::runtime_error("json type_error of a field nobody checked");
  });
  http.routes().Get("/half", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"partial\": ", "application/json");
    throw std::runtime_error("thrown after the body was begun");
  });
  http.routes().Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.set_content("fine", "text/plain"); });
  // As HttpServer and RouterServer do: a body-less error gets the API's JSON error.
  http.routes().set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty())
      res.set_content(RoutingError(res.status, req.method, req.path, "server").ToJson().dump(), "application/json");
  });
  ASSERT_TRUE(http.Listen("127.0.0.1", 0).ok());
  std::thread serving([&] { http.Serve(2); });

  httplib::Client client("127.0.0.1", http.port());
  // EXPECTs only until Stop(): an ASSERT returning here would leave the serving thread unjoined.
  auto expect_server_error = [&](const char* path) {
    auto r = client.Get(path);
    if (!r) return ADD_FAILURE() << path << ": no response";
    EXPECT_EQ(r->status, 500) << path;
    const auto e = nlohmann::json::parse(r->body, nullptr, false);
    EXPECT_TRUE(e.is_object() && e.contains("error") && e["error"].is_object() &&
                e["error"].value("type", nlohmann::json()) == "server_error" &&
                e["error"].value("code", nlohmann::json()) == 500)
        << path << ": " << r->body;
  };
  expect_server_error("/boom");
  expect_server_error("/half");  // the body it began before it threw is replaced by the error
  auto ok = client.Get("/ok");
  EXPECT_TRUE(ok && ok->status == 200 && ok->body == "fine");

  http.Stop();
  serving.join();
  spdlog::default_logger()->flush();
  EXPECT_NE(log.text().find("GET /boom: a handler threw: json type_error of a field nobody checked"), std::string::npos)
      << log.text();
}

}  // namespace
}  // namespace strata::gated_http_server_test
