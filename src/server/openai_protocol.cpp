#include "server/openai_protocol.h"

#include <cmath>
#include <limits>

#include "server/request_fields.h"
#include "server/request_json.h"

namespace strata {

using json = nlohmann::ordered_json;

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

std::optional<ApiError> ParseLogitBias(const json& bias, int32_t n_vocab, SamplingParams& s) {
  if (!bias.is_object()) return Bad("logit_bias", "'logit_bias' must be an object of token id -> bias");
  for (const auto& [id, b] : bias.items()) {
    int64_t t = 0;
    bool digits = !id.empty() && id.size() <= 10;
    for (char c : id) digits = digits && c >= '0' && c <= '9';
    if (digits) t = std::stoll(id);
    if (!digits || t >= n_vocab)
      return Bad("logit_bias", "'logit_bias' keys must be " + TokenRange(n_vocab) + ", got '" + id + "'");
    if (!b.is_number() || !(b.get<double>() >= -100 && b.get<double>() <= 100))
      return Bad("logit_bias", "'logit_bias' values must be numbers in [-100, 100], got " + b.dump());
    s.logit_bias.emplace_back(static_cast<int32_t>(t), b.get<float>());
  }
  return std::nullopt;
}

std::optional<ApiError> ParseSampling(const Fields& f, int32_t n_vocab, ParsedRequest& out) {
  SamplingParams& s = out.gen.sampling;
  int64_t top_k = s.top_k, seed = 0;
  bool seed_given = false;
  STRATA_API_CHECK(f.Number("temperature", s.temperature));
  STRATA_API_CHECK(f.Number("top_p", s.top_p));
  STRATA_API_CHECK(f.Int("top_k", -1, kInt32Max, "-1 (off), 0 (off) or positive", top_k));
  STRATA_API_CHECK(f.Number("min_p", s.min_p));
  STRATA_API_CHECK(f.Number("repetition_penalty", s.repetition_penalty));
  STRATA_API_CHECK(f.Number("frequency_penalty", s.frequency_penalty));
  STRATA_API_CHECK(f.Number("presence_penalty", s.presence_penalty));
  STRATA_API_CHECK(f.Int("seed", std::numeric_limits<int64_t>::min(), kInt64Max, "a 64-bit signed integer", seed,
                         &seed_given));
  s.top_k = static_cast<int>(top_k);
  if (const json* bias = f.Find("logit_bias")) STRATA_API_CHECK(ParseLogitBias(*bias, n_vocab, s));
  if (seed_given) s.seed = static_cast<uint64_t>(seed);  // the bits of the int64 (vLLM's seed is an int64)
  return std::nullopt;
}

std::optional<ApiError> ParseStops(const Fields& f, int32_t n_vocab, ParsedRequest& out) {
  if (const json* stop = f.Find("stop")) {
    if (stop->is_string()) {
      out.gen.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (const json& s : *stop) {
        if (!s.is_string()) return Bad("stop", "'stop' must be a string or an array of strings");
        out.gen.stop.push_back(s.get<std::string>());
      }
    } else {
      return Bad("stop", "'stop' must be a string or an array of strings");
    }
    std::erase(out.gen.stop, std::string());
  }
  if (const json* ids = f.Find("stop_token_ids")) {
    if (!ids->is_array()) return Bad("stop_token_ids", "'stop_token_ids' must be an array of integers");
    for (const json& id : *ids) {
      STRATA_API_CHECK(CheckInt("stop_token_ids", id, 0, n_vocab - 1, TokenRange(n_vocab)));
      out.gen.stop_token_ids.push_back(id.get<int32_t>());
    }
  }
  return f.Bool("ignore_eos", out.gen.ignore_eos);
}

std::optional<ApiError> ParseMessageContent(const json* content, const std::string& param, std::string& out) {
  if (!content) return Bad(param, Quote(param) + " is required");
  if (content->is_string()) {
    out = content->get<std::string>();
    return std::nullopt;
  }
  if (!content->is_array()) return Bad(param, Quote(param) + " must be a string or an array of content parts");
  for (const json& part : *content) {
    // Compared as JSON, not through value("type", ""): that throws when "type" is not a string.
    if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") || !part["text"].is_string())
      return Bad(param, "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
    out += part["text"].get<std::string>();
  }
  return std::nullopt;
}

// The roles a chat template renders as turns. Tool calls are not supported, so neither are messages that
// carry them; every message needs its content.
std::optional<ApiError> ParseMessage(const json& m, size_t i, std::vector<ChatMessage>& out) {
  const std::string param = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) return Bad(param, Quote(param) + " must be an object");
  auto role = m.find("role");
  if (role == m.end() || !role->is_string()) return Bad(param + ".role", Quote(param + ".role") + " must be a string");
  const std::string r = role->get<std::string>();
  if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
    return Bad(param + ".role", Quote(param + ".role") +
                                    " must be one of 'system', 'developer', 'user', 'assistant', 'tool', got '" + r + "'");
  for (const char* k : {"tool_calls", "function_call"})
    if (auto c = m.find(k); c != m.end() && !c->is_null() && !(c->is_array() && c->empty()))
      return Bad(param + "." + k, Quote(param + "." + k) + ": tool calls are not supported");
  ChatMessage msg{r, ""};
  auto c = m.find("content");
  STRATA_API_CHECK(ParseMessageContent(c == m.end() || c->is_null() ? nullptr : &*c, param + ".content", msg.content));
  out.push_back(std::move(msg));
  return std::nullopt;
}

std::optional<ApiError> ParsePrompt(const json& body, int32_t n_vocab, ParsedRequest& out) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return Bad("prompt", "'prompt' is a required property");
  if (it->is_string()) {
    out.prompt_text = it->get<std::string>();
    return std::nullopt;
  }
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    out.prompt_text = (*it)[0].get<std::string>();
    return std::nullopt;
  }
  if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) {
    for (const json& id : *it) {
      if (!id.is_number_integer()) return Bad("prompt", "a token-id prompt must contain only integers");
      if (!IntInRange(id, 0, n_vocab - 1))
        return Bad("prompt", "prompt token id " + id.dump() + " is outside the vocabulary: each must be " +
                                 TokenRange(n_vocab));
      out.prompt_ids.push_back(id.get<int32_t>());
    }
    return std::nullopt;
  }
  if (it->is_array() && it->size() > 1) return Bad("prompt", "batched prompts are not supported; send one prompt per request");
  return Bad("prompt", "'prompt' must be a string or an array of token ids");
}

std::optional<ApiError> ParseLogprobs(const Fields& f, bool chat, ParsedRequest& out) {
  if (chat) {
    bool logprobs = false;
    int64_t top = 0;
    STRATA_API_CHECK(f.Bool("logprobs", logprobs));
    STRATA_API_CHECK(f.Int("top_logprobs", 0, 20, "in [0, 20]", top));
    if (top > 0 && !logprobs) return Bad("top_logprobs", "'top_logprobs' requires 'logprobs': true");
    out.gen.sampling.logprobs = logprobs;
    out.gen.sampling.top_logprobs = static_cast<int>(top);
    return std::nullopt;
  }
  int64_t lp = -1;
  STRATA_API_CHECK(f.Int("logprobs", 0, 20, "in [0, 20]", lp));
  out.completion_logprobs = static_cast<int>(lp);
  out.gen.sampling.logprobs = lp >= 0;
  out.gen.sampling.top_logprobs = static_cast<int>(std::max<int64_t>(lp, 0));
  return std::nullopt;
}

std::optional<ApiError> ParseOutputOptions(const Fields& f, bool chat, ParsedRequest& out) {
  STRATA_API_CHECK(f.Bool("stream", out.stream));
  if (const json* so = f.Find("stream_options")) {
    if (!so->is_object()) return Bad("stream_options", "'stream_options' must be an object");
    STRATA_API_CHECK(Fields(*so).Bool("include_usage", out.include_usage));
  }
  int64_t n = 1;
  STRATA_API_CHECK(f.Int("n", 1, 1, "1 (only n=1 is supported)", n));
  STRATA_API_CHECK(f.Bool("return_tokens_as_token_ids", out.tokens_as_ids));
  return ParseLogprobs(f, chat, out);
}

// Fields that would change the output in ways Strata does not implement: refused rather than ignored. (Hints
// such as user, metadata, store, service_tier or parallel_tool_calls, and unknown fields, are ignored, as vLLM
// does.)
std::optional<ApiError> RefuseUnsupported(const Fields& f) {
  int64_t best_of = 1;
  STRATA_API_CHECK(f.Int("best_of", 1, 1, "1 (best_of is not supported)", best_of));
  bool echo = false;
  STRATA_API_CHECK(f.Bool("echo", echo));
  if (echo) return Bad("echo", "'echo' is not supported");
  if (const json* suffix = f.Find("suffix")) {
    if (!suffix->is_string()) return Bad("suffix", "'suffix' must be a string");
    if (!suffix->get<std::string>().empty()) return Bad("suffix", "'suffix' is not supported");
  }
  for (const char* k : {"tools", "functions"})
    if (const json* v = f.Find(k); v && !(v->is_array() && v->empty()))
      return Bad(k, Quote(k) + ": tool calling is not supported");
  if (const json* v = f.Find("tool_choice"); v && *v != "none" && *v != "auto")
    return Bad("tool_choice", "'tool_choice': tool calling is not supported");
  if (const json* v = f.Find("function_call"); v && *v != "none" && *v != "auto")
    return Bad("function_call", "'function_call': tool calling is not supported");
  for (const char* k : {"use_beam_search", "include_stop_str_in_output"}) {
    bool on = false;
    STRATA_API_CHECK(f.Bool(k, on));
    if (on) return Bad(k, Quote(k) + " is not supported");
  }
  for (const char* k : {"guided_json", "guided_regex", "guided_choice", "guided_grammar", "prompt_logprobs",
                        "audio", "prediction"})
    if (f.Find(k)) return Bad(k, Quote(k) + " is not supported (use response_format for structured output)");
  return std::nullopt;
}

std::optional<ApiError> ParseMaxTokens(const Fields& f, bool chat, ParsedRequest& out) {
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    const json* v = f.Find(key);
    if (!v || (!chat && std::string_view(key) != "max_tokens")) continue;
    // Too large is the context's business (vLLM's context-length message): above INT64_MAX saturates.
    const bool huge = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(kInt64Max);
    if (!huge) STRATA_API_CHECK(CheckInt(key, *v, 1, kInt64Max, "at least 1"));
    out.gen.max_tokens = huge ? kInt64Max : v->get<int64_t>();
    out.max_tokens_given = true;
    out.max_tokens_json = v->dump();
  }
  return std::nullopt;
}

// vLLM's chat_template_kwargs: extra template variables (enable_thinking, ...); the template checks their values.
std::optional<ApiError> ParseChatTemplateKwargs(json& body, ParsedRequest& out) {
  auto it = body.find("chat_template_kwargs");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return Bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
  out.chat_template_kwargs = std::move(*it);
  return std::nullopt;
}

std::optional<ApiError> ParseResponseFormat(json& body, ParsedRequest& out) {
  auto rf = body.find("response_format");
  if (rf == body.end() || rf->is_null()) return std::nullopt;
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    return Bad("response_format", "'response_format' must be an object with a string 'type'");
  out.response_format = std::move(*rf);  // no copy of a (possibly large) schema
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseChatMessages(const json& body, std::vector<ChatMessage>& out) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return Bad("messages", "'messages' is a required property");
  if (!it->is_array() || it->empty()) return Bad("messages", "'messages' must be a non-empty array");
  for (size_t i = 0; i < it->size(); ++i) STRATA_API_CHECK(ParseMessage((*it)[i], i, out));
  return std::nullopt;
}

std::optional<ApiError> ParseCompletionRequest(const std::string& body, bool chat, int32_t n_vocab,
                                               ParsedRequest& out) {
  json j;
  if (auto err = ParseRequestJson(body, j)) return Bad("", *err);
  if (!j.is_object()) return Bad("", "the request body must be a JSON object");
  out.chat = chat;
  const Fields f(j);
  if (const json* m = f.Find("model")) {
    if (!m->is_string()) return Bad("model", "'model' must be a string");
    out.model = m->get<std::string>();
  }
  STRATA_API_CHECK(chat ? ParseChatMessages(j, out.messages) : ParsePrompt(j, n_vocab, out));
  if (chat) STRATA_API_CHECK(ParseChatTemplateKwargs(j, out));
  STRATA_API_CHECK(ParseMaxTokens(f, chat, out));
  STRATA_API_CHECK(ParseSampling(f, n_vocab, out));
  STRATA_API_CHECK(ParseStops(f, n_vocab, out));
  STRATA_API_CHECK(ParseOutputOptions(f, chat, out));
  STRATA_API_CHECK(RefuseUnsupported(f));
  return ParseResponseFormat(j, out);
}

}  // namespace strata
