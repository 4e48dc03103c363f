#include "server/openai_protocol.h"

#include <algorithm>
#include <cstdlib>

namespace strata {

using nlohmann::json;

json ApiError::ToJson() const {
  json p = param.empty() ? json(nullptr) : json(param);
  return {{"error", {{"message", message}, {"type", type}, {"param", p}, {"code", status}}}};
}

namespace {

ApiError Bad(const std::string& param, const std::string& message) { return {400, message, "invalid_request_error", param}; }

// Typed access to optional fields: a present field of the wrong type is an error naming the field.
class Fields {
 public:
  explicit Fields(const json& j) : j_(j) {}
  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  std::optional<ApiError> Number(const char* key, float& out) const {
    if (const json* v = Find(key)) {
      if (!v->is_number()) return Bad(key, std::string("'") + key + "' must be a number");
      out = v->get<float>();
    }
    return std::nullopt;
  }
  std::optional<ApiError> Int(const char* key, int64_t& out, bool* given = nullptr) const {
    if (const json* v = Find(key)) {
      if (!v->is_number_integer()) return Bad(key, std::string("'") + key + "' must be an integer");
      out = v->get<int64_t>();
      if (given) *given = true;
    }
    return std::nullopt;
  }
  std::optional<ApiError> Bool(const char* key, bool& out) const {
    if (const json* v = Find(key)) {
      if (!v->is_boolean()) return Bad(key, std::string("'") + key + "' must be a boolean");
      out = v->get<bool>();
    }
    return std::nullopt;
  }

 private:
  const json& j_;
};

#define STRATA_API_CHECK(expr)              \
  if (auto _err = (expr); _err) return _err

std::optional<ApiError> ParseSampling(const Fields& f, ParsedRequest& out) {
  SamplingParams& s = out.gen.sampling;
  int64_t top_k = s.top_k, seed = 0;
  bool seed_given = false;
  STRATA_API_CHECK(f.Number("temperature", s.temperature));
  STRATA_API_CHECK(f.Number("top_p", s.top_p));
  STRATA_API_CHECK(f.Int("top_k", top_k));
  STRATA_API_CHECK(f.Number("min_p", s.min_p));
  STRATA_API_CHECK(f.Number("repetition_penalty", s.repetition_penalty));
  STRATA_API_CHECK(f.Number("frequency_penalty", s.frequency_penalty));
  STRATA_API_CHECK(f.Number("presence_penalty", s.presence_penalty));
  STRATA_API_CHECK(f.Int("seed", seed, &seed_given));
  s.top_k = static_cast<int>(std::clamp<int64_t>(top_k, -1, 1 << 30));
  if (const json* bias = f.Find("logit_bias")) {
    if (!bias->is_object()) return Bad("logit_bias", "'logit_bias' must be an object of token id -> bias");
    for (const auto& [id, b] : bias->items()) {
      char* end = nullptr;
      const long t = std::strtol(id.c_str(), &end, 10);
      if (id.empty() || *end != '\0' || !b.is_number())
        return Bad("logit_bias", "'logit_bias' keys must be token ids and values numbers");
      s.logit_bias.emplace_back(static_cast<int32_t>(std::clamp<long>(t, -1, 1 << 30)), b.get<float>());
    }
  }
  if (seed_given) s.seed = static_cast<uint64_t>(seed);
  return std::nullopt;
}

std::optional<ApiError> ParseStops(const Fields& f, ParsedRequest& out) {
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
      if (!id.is_number_integer()) return Bad("stop_token_ids", "'stop_token_ids' must be an array of integers");
      out.gen.stop_token_ids.push_back(id.get<int32_t>());
    }
  }
  return f.Bool("ignore_eos", out.gen.ignore_eos);
}

std::optional<ApiError> ParseMessageContent(const json& content, size_t i, std::string& out) {
  const std::string param = "messages[" + std::to_string(i) + "].content";
  if (content.is_string()) {
    out = content.get<std::string>();
    return std::nullopt;
  }
  if (content.is_null()) return std::nullopt;
  if (!content.is_array()) return Bad(param, "'" + param + "' must be a string or an array of content parts");
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      return Bad(param, "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
    out += part["text"].get<std::string>();
  }
  return std::nullopt;
}

std::optional<ApiError> ParseMessages(const json& body, ParsedRequest& out) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return Bad("messages", "'messages' is a required property");
  if (!it->is_array() || it->empty()) return Bad("messages", "'messages' must be a non-empty array");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Bad(param, "'" + param + "' must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Bad(param + ".role", "'" + param + ".role' must be a string");
    ChatMessage msg{role->get<std::string>(), ""};
    if (auto c = m.find("content"); c != m.end()) STRATA_API_CHECK(ParseMessageContent(*c, i, msg.content));
    out.messages.push_back(std::move(msg));
  }
  return std::nullopt;
}

std::optional<ApiError> ParsePrompt(const json& body, ParsedRequest& out) {
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
      out.prompt_ids.push_back(id.get<int32_t>());
    }
    return std::nullopt;
  }
  if (it->is_array() && it->size() > 1) return Bad("prompt", "batched prompts are not supported; send one prompt per request");
  return Bad("prompt", "'prompt' must be a string or an array of token ids");
}

std::optional<ApiError> ParseOutputOptions(const Fields& f, bool chat, ParsedRequest& out) {
  STRATA_API_CHECK(f.Bool("stream", out.stream));
  if (const json* so = f.Find("stream_options")) {
    if (!so->is_object()) return Bad("stream_options", "'stream_options' must be an object");
    STRATA_API_CHECK(Fields(*so).Bool("include_usage", out.include_usage));
  }
  int64_t n = 1;
  STRATA_API_CHECK(f.Int("n", n));
  if (n != 1) return Bad("n", "only n=1 is supported");
  if (chat) {
    bool logprobs = false;
    int64_t top = 0;
    STRATA_API_CHECK(f.Bool("logprobs", logprobs));
    STRATA_API_CHECK(f.Int("top_logprobs", top));
    if (top > 0 && !logprobs) return Bad("top_logprobs", "'top_logprobs' requires 'logprobs': true");
    out.gen.sampling.logprobs = logprobs;
    out.gen.sampling.top_logprobs = static_cast<int>(std::clamp<int64_t>(top, -1, 1000));
  } else {
    int64_t lp = -1;
    STRATA_API_CHECK(f.Int("logprobs", lp));
    if (f.Find("logprobs") && (lp < 0 || lp > 20)) return Bad("logprobs", "'logprobs' must be between 0 and 20");
    out.completion_logprobs = static_cast<int>(lp);
    out.gen.sampling.logprobs = lp >= 0;
    out.gen.sampling.top_logprobs = static_cast<int>(std::max<int64_t>(lp, 0));
    bool echo = false;
    STRATA_API_CHECK(f.Bool("echo", echo));
    if (echo) return Bad("echo", "'echo' is not supported");
  }
  if (const json* rf = f.Find("response_format")) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      return Bad("response_format", "'response_format' must be an object with a string 'type'");
    out.response_format = nlohmann::ordered_json();  // filled from the ordered parse below
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseCompletionRequest(const std::string& body, bool chat, ParsedRequest& out) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("", "the request body is not valid JSON");
  if (!j.is_object()) return Bad("", "the request body must be a JSON object");
  out.chat = chat;
  const Fields f(j);
  if (const json* m = f.Find("model")) {
    if (!m->is_string()) return Bad("model", "'model' must be a string");
    out.model = m->get<std::string>();
  }
  STRATA_API_CHECK(chat ? ParseMessages(j, out) : ParsePrompt(j, out));
  STRATA_API_CHECK(f.Int("max_tokens", out.gen.max_tokens, &out.max_tokens_given));
  if (chat) STRATA_API_CHECK(f.Int("max_completion_tokens", out.gen.max_tokens, &out.max_tokens_given));
  if (out.max_tokens_given && out.gen.max_tokens < 1) return Bad("max_tokens", "'max_tokens' must be at least 1");
  STRATA_API_CHECK(ParseSampling(f, out));
  STRATA_API_CHECK(ParseStops(f, out));
  STRATA_API_CHECK(ParseOutputOptions(f, chat, out));
  if (out.response_format)  // again, keeping key order: schema properties are generated in the order given
    out.response_format = nlohmann::ordered_json::parse(body, nullptr, false)["response_format"];
  return std::nullopt;
}

}  // namespace strata
