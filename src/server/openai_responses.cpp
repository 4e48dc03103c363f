#include "server/openai_responses.h"

#include <cmath>

namespace strata {

using nlohmann::json;

namespace {

std::string TokenText(const ResponseContext& ctx, int32_t id) { return ctx.tokenizer->TokenBytes(id); }

// How a token is named in logprobs.
std::string TokenName(const ResponseContext& ctx, int32_t id) {
  return ctx.tokens_as_ids ? "token_id:" + std::to_string(id) : TokenText(ctx, id);
}

json Bytes(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// Chat: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}.
json ChatLogprobs(const ResponseContext& ctx, const std::vector<SampleResult>& lps) {
  json content = json::array();
  for (const SampleResult& s : lps) {
    json top = json::array();
    for (const TokenLogprob& t : s.top) {
      const std::string text = TokenName(ctx, t.token);
      top.push_back({{"token", text}, {"logprob", t.logprob}, {"bytes", Bytes(text)}});
    }
    const std::string text = TokenName(ctx, s.token);
    content.push_back({{"token", text}, {"logprob", s.logprob}, {"bytes", Bytes(text)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

// Completions: parallel arrays tokens / token_logprobs / top_logprobs / text_offset. The offsets stay those
// of the text even when tokens are named by id (vLLM's would advance by the length of "token_id:N").
json CompletionLogprobs(const ResponseContext& ctx, const std::vector<SampleResult>& lps, size_t offset) {
  json tokens = json::array(), token_lps = json::array(), tops = json::array(), offsets = json::array();
  for (const SampleResult& s : lps) {
    tokens.push_back(TokenName(ctx, s.token));
    token_lps.push_back(s.logprob);
    json top = json::object();
    for (const TokenLogprob& t : s.top) top[TokenName(ctx, t.token)] = t.logprob;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += TokenText(ctx, s.token).size();
  }
  return {{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json LogprobsJson(const ResponseContext& ctx, const std::vector<SampleResult>& lps) {
  if (!ctx.logprobs) return nullptr;
  return ctx.chat ? ChatLogprobs(ctx, lps) : CompletionLogprobs(ctx, lps, 0);
}

json FinishJson(const GenerateOutput& d) {
  if (!d.finished) return nullptr;
  return FinishReasonName(d.finish_reason);
}

json Envelope(const ResponseContext& ctx, const char* object) {
  json j = {{"id", ctx.id}, {"object", object}, {"created", ctx.created}, {"model", ctx.model}};
  if (ctx.extension.is_object()) j.update(ctx.extension);
  return j;
}

}  // namespace

json UsageJson(const GenerateOutput& d) {
  return {{"prompt_tokens", d.prompt_tokens},
          {"completion_tokens", d.completion_tokens},
          {"total_tokens", d.prompt_tokens + d.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", d.cached_tokens}}}};
}

json FullResponse(const ResponseContext& ctx, const Accumulated& acc) {
  json choice = {{"index", 0}, {"logprobs", LogprobsJson(ctx, acc.logprobs)}, {"finish_reason", FinishJson(acc.last)}};
  if (ctx.chat)
    choice["message"] = {{"role", "assistant"}, {"content", acc.text}};
  else
    choice["text"] = acc.text;
  json r = Envelope(ctx, ctx.chat ? "chat.completion" : "text_completion");
  r["choices"] = json::array({choice});
  r["usage"] = UsageJson(acc.last);
  return r;
}

json ChunkJson(const ResponseContext& ctx, const GenerateOutput& d) {
  json choice = {{"index", 0}, {"logprobs", LogprobsJson(ctx, d.logprobs)}, {"finish_reason", FinishJson(d)}};
  if (ctx.chat)
    choice["delta"] = d.text.empty() && d.finished ? json::object() : json{{"content", d.text}};
  else
    choice["text"] = d.text;
  json r = Envelope(ctx, ctx.chat ? "chat.completion.chunk" : "text_completion");
  r["choices"] = json::array({choice});
  return r;
}

json ChatRoleChunk(const ResponseContext& ctx) {
  json r = Envelope(ctx, "chat.completion.chunk");
  r["choices"] = json::array(
      {{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
  return r;
}

json UsageChunk(const ResponseContext& ctx, const GenerateOutput& d) {
  json r = Envelope(ctx, ctx.chat ? "chat.completion.chunk" : "text_completion");
  r["choices"] = json::array();
  r["usage"] = UsageJson(d);
  return r;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace strata
