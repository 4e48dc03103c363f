#include "coe/coe_directory.h"

#include "core/log.h"
#include "runtime/profiler.h"

namespace strata::coe {

namespace {

// The expert's chat template, or null with the reason (chat requests to it then fail with that reason).
std::unique_ptr<ChatTemplate> TemplateOf(const Model& model, std::string& why) {
  auto source = model.ChatTemplate();
  if (!source.ok()) {
    why = source.status().message();
    return nullptr;
  }
  auto parsed = ChatTemplate::FromSource(*source);
  if (!parsed.ok()) {
    why = "its chat template cannot be rendered: " + parsed.status().message();
    return nullptr;
  }
  return std::make_unique<ChatTemplate>(std::move(*parsed));
}

}  // namespace

// Everything one expert's requests go through; an expert answers to its own name and to the CoE's.
struct CoeDirectory::Served {
  ExpertPort port;
  std::unique_ptr<ChatTemplate> chat_template;
  ChatPrompt prompt;
  CompletionService completion;
  TokenizeService tokenize;

  Served(CoeEngine& engine, int e, std::unique_ptr<ChatTemplate> t, std::string why)
      : port(engine, e), chat_template(std::move(t)),
        prompt(chat_template.get(), std::move(why), engine.expert(e).model->tokenizer()),
        completion(port, prompt, engine.expert(e).name, {engine.name(), "auto"}),
        tokenize(prompt, engine.expert(e).model->tokenizer(), engine.expert(e).max_model_len, engine.expert(e).name,
                 {engine.name(), "auto"}) {}
};

CoeDirectory::CoeDirectory(CoeEngine& engine, ExpertRouter& router) : engine_(engine), router_(router) {
  for (int e = 0; e < engine.num_experts(); ++e) {
    std::string why;
    auto tmpl = TemplateOf(*engine.expert(e).model, why);
    experts_.push_back(std::make_unique<Served>(engine, e, std::move(tmpl), std::move(why)));
  }
}

CoeDirectory::~CoeDirectory() = default;

std::variant<ServedRoute, ApiError> CoeDirectory::Resolve(const RouteQuery& query) {
  if (!query.model.empty() && query.model != engine_.name() && query.model != "auto") {
    const int e = engine_.Find(query.model);
    if (e < 0) return ApiError{404, "The model `" + query.model + "` does not exist.", "not_found_error", "model"};
    Served& s = *experts_[static_cast<size_t>(e)];
    return ServedRoute{.completion = &s.completion, .tokenize = &s.tokenize};
  }
  const int64_t begin_us = Profiler::NowUs();
  auto d = router_.Route(query.text);
  if (!d.ok()) return ApiError{500, "the router failed: " + d.status().message(), "server_error", ""};
  if (query.generates) {
    engine_.Prefetch(d->expert);  // the load starts now; tokenizing the prompt overlaps it
    engine_.metrics().RouterDecision(d->expert, d->micros * 1e-6);
  }
  const std::string& expert = engine_.expert(d->expert).name;
  nlohmann::json decision = {{"name", engine_.name()},         {"expert", expert},
                             {"score", d->score},              {"method", router_.method()},
                             {"route_ms", d->micros * 1e-3},   {"runner_up", nullptr},
                             {"runner_up_score", nullptr}};
  if (d->runner_up >= 0) {
    decision["runner_up"] = engine_.expert(d->runner_up).name;
    decision["runner_up_score"] = d->runner_up_score;
  }
  if (Profiler* prof = Profiler::active())
    prof->Slice(Track::kHost, 0, "route to " + expert, begin_us, Profiler::NowUs(),
                "\"expert\":\"" + expert + "\",\"score\":" + std::to_string(d->score) + ",\"runner_up\":\"" +
                    (d->runner_up >= 0 ? engine_.expert(d->runner_up).name : "") + "\"");
  Served& s = *experts_[static_cast<size_t>(d->expert)];
  return ServedRoute{.completion = &s.completion, .tokenize = &s.tokenize,
                     .extension = nlohmann::json{{"coe", std::move(decision)}}};
}

nlohmann::json CoeDirectory::Models() const {
  nlohmann::json experts = nlohmann::json::array();
  for (int e = 0; e < engine_.num_experts(); ++e) experts.push_back(engine_.expert(e).name);
  nlohmann::json data = nlohmann::json::array();
  data.push_back({{"id", engine_.name()}, {"object", "model"}, {"created", 0}, {"owned_by", "strata"},
                  {"coe", {{"router", router_.method()}, {"experts", experts}, {"ram_budget", engine_.budget()}}}});
  for (int e = 0; e < engine_.num_experts(); ++e) {
    const ExpertInfo& x = engine_.expert(e);
    data.push_back({{"id", x.name}, {"object", "model"}, {"created", 0}, {"owned_by", "strata"}, {"parent", engine_.name()},
                    {"max_model_len", x.max_model_len}, {"memory_bytes", x.footprint.total()}});
  }
  return data;
}

}  // namespace strata::coe
