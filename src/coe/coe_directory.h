// The Composition of Experts behind the HTTP server: "model": "<expert>" goes to that expert; the CoE's name,
// "auto" or no model goes through the router, which also starts the expert's load before the prompt is
// tokenized. Routed responses name the expert that answered in "model" and carry the decision in an extension
// field, "coe": {"expert", "score", "runner_up", "runner_up_score", "method", "route_ms"}. /v1/models lists the
// CoE and every expert.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coe/coe_engine.h"
#include "coe/expert_router.h"
#include "server/chat_prompt.h"
#include "server/completion_service.h"
#include "server/model_directory.h"
#include "server/tokenize_service.h"

namespace strata::coe {

// One expert as a GenerateService: requests go to the CoE engine, which loads the expert when needed.
class ExpertPort final : public GenerateService {
 public:
  ExpertPort(CoeEngine& engine, int expert) : engine_(engine), expert_(expert) {}
  Result<std::shared_ptr<OutputStream>> Submit(GenerateRequest r) override { return engine_.Submit(expert_, std::move(r)); }
  void Abort(const std::string& id) override { engine_.Abort(id); }
  std::string NextId(const char* prefix) override { return engine_.NextId(prefix); }
  int64_t max_model_len() const override { return engine_.expert(expert_).max_model_len; }
  const Tokenizer& tokenizer() const override { return engine_.expert(expert_).model->tokenizer(); }

 private:
  CoeEngine& engine_;
  int expert_;
};

class CoeDirectory final : public ModelDirectory {
 public:
  // `engine` and `router` must outlive the directory.
  CoeDirectory(CoeEngine& engine, ExpertRouter& router);
  ~CoeDirectory() override;

  std::variant<ServedRoute, ApiError> Resolve(const RouteQuery& query) override;
  nlohmann::json Models() const override;
  Status health() const override { return Status::Ok(); }
  std::string RenderMetrics() const override { return engine_.metrics().RenderPrometheus(); }

 private:
  struct Served;
  CoeEngine& engine_;
  ExpertRouter& router_;
  std::vector<std::unique_ptr<Served>> experts_;
};

}  // namespace strata::coe
