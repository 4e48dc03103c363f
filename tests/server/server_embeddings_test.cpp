// /v1/embeddings in process: the OpenAI shape, unit vectors, base64 that decodes to the float answer's bytes
// (decoded here with Python's base64 module, an independent decoder), a request served while generations run,
// and clear errors. The npm client test (embeddings_client.mjs) checks the same through the official client.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <sstream>

#include "local_server.h"

namespace strata::testing {
namespace server_embeddings_test {  // named: unity-built beside tests with helpers of the same names

using nlohmann::json;

class ServerEmbeddings : public SharedServerTest<ServerEmbeddings> {};

// The standard output of a shell command.
std::string Capture(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
  }
  return out;
}

double Norm(const json& v) {
  double s = 0;
  for (const json& x : v) s += x.get<double>() * x.get<double>();
  return std::sqrt(s);
}

TEST_F(ServerEmbeddings, OpenAiShapeAndUnitVectors) {
  auto r = server_->Post("/v1/embeddings", json{{"model", "tiny"}, {"input", json::array({"Hello there", "A cat"})}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  EXPECT_EQ(r.second["object"], "list");
  EXPECT_EQ(r.second["model"], "tiny");
  ASSERT_EQ(r.second["data"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const json& d = r.second["data"][i];
    EXPECT_EQ(d["object"], "embedding");
    EXPECT_EQ(d["index"], i);
    EXPECT_EQ(d["embedding"].size(), 192u);  // the tiny model's width
    EXPECT_NEAR(Norm(d["embedding"]), 1.0, 1e-5);
  }
  const Tokenizer& tok = server_->tokenizer();
  EXPECT_EQ(r.second["usage"]["prompt_tokens"], tok.Encode("Hello there", true).size() + tok.Encode("A cat", true).size());
  // The same text as token ids gives the same vector.
  auto ids = server_->Post("/v1/embeddings", json{{"input", json::array({tok.Encode("A cat", true)})}});
  ASSERT_EQ(ids.first, 200) << ids.second.dump();
  EXPECT_EQ(ids.second["data"][0]["embedding"], r.second["data"][1]["embedding"]);
}

TEST_F(ServerEmbeddings, ARequestOverOneBatchRunsInPartsAndEqualsOneByOne) {
  // 40 inputs of about 20 tokens: more than the 256 tokens one batch of the test server holds, so the engine runs
  // them as several jobs with its steps between.
  json inputs = json::array();
  for (int i = 0; i < 40; ++i) inputs.push_back("Sentence number " + std::to_string(i) + " is about a cat and a dog.");
  auto all = server_->Post("/v1/embeddings", json{{"input", inputs}});
  ASSERT_EQ(all.first, 200) << all.second.dump();
  ASSERT_EQ(all.second["data"].size(), 40u);
  EXPECT_GT(all.second["usage"]["prompt_tokens"].get<int>(), 256);
  for (int i : {0, 13, 39}) {
    auto one = server_->Post("/v1/embeddings", json{{"input", inputs[i]}});
    ASSERT_EQ(one.first, 200);
    EXPECT_EQ(all.second["data"][i]["index"], i);
    const json& a = all.second["data"][i]["embedding"];
    const json& b = one.second["data"][0]["embedding"];
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k].get<double>() - b[k].get<double>()));
    EXPECT_LT(worst, 1e-5) << i;
  }
}

TEST_F(ServerEmbeddings, Base64IsTheFloatsLittleEndianBytes) {
  auto f = server_->Post("/v1/embeddings", json{{"input", "Hello there"}});
  auto b = server_->Post("/v1/embeddings", json{{"input", "Hello there"}, {"encoding_format", "base64"}});
  ASSERT_EQ(f.first, 200);
  ASSERT_EQ(b.first, 200) << b.second.dump();
  const std::string text = b.second["data"][0]["embedding"].get<std::string>();
  const std::string decoded = Capture("/usr/bin/python3 -c 'import base64,struct,sys; d=base64.b64decode(sys.argv[1], validate=True); "
                             "print(\" \".join(repr(x) for x in struct.unpack(\"<%df\" % (len(d)//4), d)))' " + text);
  std::vector<double> values;
  std::istringstream in(decoded);
  for (double x; in >> x;) values.push_back(x);
  ASSERT_EQ(values.size(), f.second["data"][0]["embedding"].size());
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(static_cast<float>(values[i]), f.second["data"][0]["embedding"][i].get<float>()) << i;
}

TEST_F(ServerEmbeddings, ServedWhileGenerating) {
  // A long completion keeps the engine stepping; embeddings run between its steps and match a quiet server's.
  auto quiet = server_->Post("/v1/embeddings", json{{"input", "Hello there"}});
  auto gen = std::async(std::launch::async, [] {
    return server_->Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 200},
                                                 {"ignore_eos", true}, {"temperature", 0}});
  });
  for (int i = 0; i < 5; ++i) {
    auto busy = server_->Post("/v1/embeddings", json{{"input", "Hello there"}});
    ASSERT_EQ(busy.first, 200);
    EXPECT_EQ(busy.second["data"][0]["embedding"], quiet.second["data"][0]["embedding"]);
  }
  EXPECT_EQ(gen.get().first, 200);
}

TEST_F(ServerEmbeddings, BadRequestsGetClearErrors) {
  struct Case {
    json body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {json::object(), 400, "'input' is a required property"},
      {json{{"input", json::array()}}, 400, "not empty"},
      {json{{"input", ""}}, 400, "input 0 is empty"},
      {json{{"input", json::array({"a", json::array({1, 2})})}}, 400, "all be strings or all be arrays"},
      {json{{"input", json::array({json::array({1, 5000})})}}, 400, "token id in [0, 1024)"},
      {json{{"input", "a"}, {"encoding_format", "int8"}}, 400, "\"float\" or \"base64\""},
      {json{{"input", "a"}, {"dimensions", 7}}, 400, "have 192 dimensions"},
      {json{{"input", std::string(2000, 'x')}}, 400, "embeddings take at most"},
      // Named by their place in the request, though the request runs in several batches.
      {json{{"input", json::array({std::string(200, 'y'), std::string(200, 'y'), std::string(2000, 'x')})}}, 400,
       "input 2 is"},
      {json{{"input", json::array({json::array({1, 2}), json::array()})}}, 400, "input 1 is empty"},
      {json{{"input", "a"}, {"model", "other"}}, 404, "does not exist"},
      {json{{"input", json::array_t(2049, "a")}}, 400, "at most 2048 a request"},
      {json{{"input", json::array_t(2048, std::string(400, 'z') + " end")}}, 400, "tokens together; at most 300000"},
  };
  for (const Case& c : cases) {
    auto r = server_->Post("/v1/embeddings", c.body);
    EXPECT_EQ(r.first, c.status) << c.body.dump() << " -> " << r.second.dump();
    EXPECT_NE(r.second["error"]["message"].get<std::string>().find(c.message), std::string::npos)
        << c.body.dump() << " -> " << r.second.dump();
  }
  // Still serving.
  EXPECT_EQ(server_->Post("/v1/embeddings", json{{"input", "a"}}).first, 200);
}

}  // namespace server_embeddings_test
}  // namespace strata::testing
