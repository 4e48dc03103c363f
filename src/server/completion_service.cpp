#include "server/completion_service.h"

#include <algorithm>
#include <chrono>

#include "engine/json_grammar.h"
#include "engine/token_mask.h"

namespace strata {

using nlohmann::json;

namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Summarize(const GenerateOutput& d, RequestSummary& s) {
  s.finish_reason = FinishReasonName(d.finish_reason);
  s.prompt_tokens = d.prompt_tokens;
  s.completion_tokens = d.completion_tokens;
  s.cached_tokens = d.cached_tokens;
}

std::string Event(const json& j) { return "data: " + Dump(j) + "\n\n"; }

}  // namespace

CompletionService::CompletionService(GenerateService& engine, const ChatPrompt& prompt, std::string model_name,
                                     std::vector<std::string> aliases)
    : engine_(engine), prompt_(prompt), model_name_(std::move(model_name)), aliases_(std::move(aliases)) {
  const Tokenizer& tok = engine_.tokenizer();
  for (int32_t id = 0; id < tok.n_vocab(); ++id)
    longest_token_bytes_ = std::max<int64_t>(longest_token_bytes_, static_cast<int64_t>(tok.TokenBytes(id).size()));
}

// vLLM's message; max_tokens is quoted as the client wrote it (it may not fit an int64).
std::optional<ApiError> CompletionService::CheckContext(const ParsedRequest& p) const {
  const auto prompt = static_cast<int64_t>(p.gen.prompt.size());
  const int64_t limit = engine_.max_model_len();
  if (!p.max_tokens_given || p.gen.max_tokens <= limit - prompt) return std::nullopt;
  return ApiError{400,
                  "This model's maximum context length is " + std::to_string(limit) + " tokens. However, you requested " +
                      p.max_tokens_json + " tokens in the completion, with " + std::to_string(prompt) +
                      " in the prompt. Please reduce the length of the prompt or max_tokens.",
                  "invalid_request_error", "max_tokens"};
}

// Each token writes at least one byte and at most the vocabulary's longest token, so a schema whose shortest
// document is longer than that times the tokens left can only be cut off: refused instead.
std::optional<ApiError> CompletionService::CheckGrammarFits(const ParsedRequest& p) const {
  if (!p.gen.grammar) return std::nullopt;
  const int64_t need = p.gen.grammar->min_len(p.gen.grammar->root());
  const int64_t budget =
      std::min(p.gen.max_tokens, engine_.max_model_len() - static_cast<int64_t>(p.gen.prompt.size()));
  if (budget <= 0 || need <= budget * longest_token_bytes_) return std::nullopt;  // budget <= 0: the engine says
  return ApiError{400,
                  "the response_format schema's shortest document is " + std::to_string(need) +
                      " bytes, more than " + std::to_string(budget) + " tokens (of at most " +
                      std::to_string(longest_token_bytes_) + " bytes each) can write; raise max_tokens or relax the schema",
                  "invalid_request_error", "response_format"};
}

std::optional<ApiError> CompletionService::BuildPrompt(ParsedRequest& p) const {
  const Tokenizer& tok = engine_.tokenizer();
  if (!p.chat) {
    p.gen.prompt = p.prompt_text ? tok.Encode(*p.prompt_text, tok.add_bos()) : p.prompt_ids;
    if (p.gen.prompt.empty()) return ApiError{400, "the prompt is empty", "invalid_request_error", "prompt"};
    return std::nullopt;
  }
  const ChatPromptOptions options{.add_generation_prompt = true,
                                  .template_kwargs = p.chat_template_kwargs ? &*p.chat_template_kwargs : nullptr};
  auto text = prompt_.Render(p.messages, options);
  if (auto* err = std::get_if<ApiError>(&text)) return *err;
  p.gen.prompt = prompt_.Encode(std::get<std::string>(text), /*add_special=*/true);
  return std::nullopt;
}

std::optional<ApiError> CompletionService::BuildGrammar(ParsedRequest& p) {
  if (!p.response_format) return std::nullopt;
  const nlohmann::ordered_json& rf = *p.response_format;
  const std::string type = rf["type"].get<std::string>();
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    if (!any_object_) {
      auto g = JsonGrammar::AnyObject();
      if (!g.ok()) return ApiErrorFromStatus(g.status(), "response_format");
      any_object_ = *g;
    }
    p.gen.grammar = any_object_;
    return std::nullopt;
  }
  if (type != "json_schema")
    return ApiError{400, "response_format type must be 'text', 'json_object' or 'json_schema'", "invalid_request_error",
                    "response_format"};
  auto js = rf.find("json_schema");
  if (js == rf.end() || !js->is_object() || !js->contains("schema") || !(*js)["schema"].is_object())
    return ApiError{400, "response_format.json_schema.schema must be an object", "invalid_request_error",
                    "response_format"};
  auto g = JsonGrammar::FromSchema((*js)["schema"]);
  if (!g.ok()) return ApiErrorFromStatus(g.status(), "response_format");
  p.gen.grammar = *g;
  return std::nullopt;
}

std::variant<StartedRequest, ApiError> CompletionService::Start(const std::string& body, bool chat,
                                                                nlohmann::json extension) {
  StartedRequest r;
  if (auto err = ParseCompletionRequest(body, chat, engine_.tokenizer().n_vocab(), r.parsed)) return *err;
  ParsedRequest& p = r.parsed;
  if (!p.model.empty() && p.model != model_name_ && std::ranges::find(aliases_, p.model) == aliases_.end())
    return ApiError{404, "The model `" + p.model + "` does not exist.", "not_found_error", "model"};
  if (auto err = BuildPrompt(p)) return *err;
  if (auto err = BuildGrammar(p)) return *err;
  const auto prompt_len = static_cast<int64_t>(p.gen.prompt.size());
  if (chat && !p.max_tokens_given) p.gen.max_tokens = std::max<int64_t>(1, engine_.max_model_len() - prompt_len);
  if (auto err = CheckContext(p)) return *err;
  if (auto err = CheckGrammarFits(p)) return *err;
  p.gen.id = engine_.NextId(chat ? "chatcmpl" : "cmpl");
  r.ctx = {p.gen.id,          model_name_,   UnixNow(), chat, p.gen.sampling.logprobs, &engine_.tokenizer(),
           p.tokens_as_ids, std::move(extension)};
  r.prompt_tokens = prompt_len;
  auto stream = engine_.Submit(p.gen);
  if (!stream.ok()) return ApiErrorFromStatus(stream.status());
  r.stream = *stream;
  return r;
}

std::pair<int, json> CompletionService::Collect(StartedRequest& r, RequestSummary& summary) {
  Accumulated acc;
  for (;;) {
    auto d = r.stream->Next(std::chrono::milliseconds(1000));
    if (!d) continue;
    acc.text += d->text;
    acc.logprobs.insert(acc.logprobs.end(), d->logprobs.begin(), d->logprobs.end());
    if (!d->finished) continue;
    acc.last = std::move(*d);
    Summarize(acc.last, summary);
    if (acc.last.finish_reason == FinishReason::kError)
      return {500, ApiError{500, acc.last.error, "server_error", ""}.ToJson()};
    return {200, FullResponse(r.ctx, acc)};
  }
}

bool CompletionService::Stream(StartedRequest& r, const std::function<bool(std::string_view)>& write,
                               RequestSummary& summary) {
  auto abort = [&] {
    engine_.Abort(r.ctx.id);
    summary.finish_reason = "abort";
    return false;
  };
  if (r.ctx.chat && !write(Event(ChatRoleChunk(r.ctx)))) return abort();
  for (;;) {
    auto d = r.stream->Next(std::chrono::milliseconds(500));
    if (!d) {
      if (!write(": keep-alive\n\n")) return abort();  // finds a client that left while we were idle
      continue;
    }
    if (d->finished && d->finish_reason == FinishReason::kError) {
      Summarize(*d, summary);
      write(Event(ApiError{500, d->error, "server_error", ""}.ToJson()));
      return write("data: [DONE]\n\n");
    }
    if ((!d->text.empty() || d->finished || !d->logprobs.empty()) && !write(Event(ChunkJson(r.ctx, *d))))
      return abort();
    if (!d->finished) continue;
    Summarize(*d, summary);
    if (r.parsed.include_usage && !write(Event(UsageChunk(r.ctx, *d)))) return false;
    return write("data: [DONE]\n\n");
  }
}

}  // namespace strata
