#include "server/embedding_service.h"

#include "server/base64.h"
#include "server/request_fields.h"

namespace strata {

using json = nlohmann::ordered_json;

namespace {

std::string Base64Floats(const std::vector<float>& v) {
  // x86 and ARM Linux are little-endian: the floats' bytes are already in the order the API sends.
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

}  // namespace

std::variant<std::vector<std::vector<int32_t>>, ApiError> EmbeddingService::Inputs(const json& input) const {
  const Tokenizer& tok = engine_.tokenizer();
  std::vector<std::vector<int32_t>> out;
  // OpenAI refuses an empty text (here it would be the BOS token alone: the same vector for every empty text).
  auto text = [&](const json& t) -> std::optional<ApiError> {
    if (t.get_ref<const std::string&>().empty()) return Bad("input", "input " + std::to_string(out.size()) + " is empty");
    out.push_back(EncodeWithSpecialTokens(tok, t.get<std::string>()));
    return std::nullopt;
  };
  if (input.is_string()) {
    if (auto err = text(input)) return *err;
    return out;
  }
  if (!input.is_array() || input.empty())
    return Bad("input", "'input' must be a string, an array of strings, or an array of token id arrays, not empty");
  const int32_t n_vocab = tok.n_vocab();
  auto ids_of = [&](const json& a, std::vector<int32_t>& ids) -> std::optional<ApiError> {
    for (const json& id : a) {
      STRATA_API_CHECK(CheckInt("input", id, 0, n_vocab - 1, TokenRange(n_vocab)));
      ids.push_back(id.get<int32_t>());
    }
    return std::nullopt;
  };
  if (input[0].is_number_integer()) {  // one input as token ids
    out.emplace_back();
    if (auto err = ids_of(input, out.back())) return *err;
    return out;
  }
  if (input.size() > kMaxInputs)
    return Bad("input", "'input' has " + std::to_string(input.size()) + " items; at most " +
                            std::to_string(kMaxInputs) + " a request");
  for (const json& item : input) {
    if (item.is_string() && input[0].is_string()) {
      if (auto err = text(item)) return *err;
    } else if (item.is_array() && input[0].is_array()) {
      out.emplace_back();
      if (auto err = ids_of(item, out.back())) return *err;
    } else {
      return Bad("input", "'input' items must all be strings or all be arrays of token ids");
    }
  }
  return out;
}

std::variant<nlohmann::json, ApiError> EmbeddingService::Embed(const std::string& body) const {
  json j;
  if (auto err = ParseModelBody(body, model_name_, {}, j)) return *err;
  const Fields f(j);
  const json* input = f.Find("input");
  if (input == nullptr) return Bad("input", "'input' is a required property");
  std::string format = "float";
  if (const json* e = f.Find("encoding_format")) {
    if (!e->is_string() || (*e != "float" && *e != "base64"))
      return Bad("encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
    format = e->get<std::string>();
  }
  int64_t dimensions = 0;
  bool dimensions_given = false;
  if (auto err = f.Int("dimensions", 1, int64_t{1} << 20, "a positive integer", dimensions, &dimensions_given))
    return *err;

  auto inputs = Inputs(*input);
  if (auto* err = std::get_if<ApiError>(&inputs)) return *err;
  auto& ids = std::get<std::vector<std::vector<int32_t>>>(inputs);
  int64_t tokens = 0;
  for (const auto& one : ids) tokens += std::ssize(one);
  if (tokens > kMaxTokens)
    return Bad("input", "the inputs are " + std::to_string(tokens) + " tokens together; at most " +
                            std::to_string(kMaxTokens) + " a request");
  // Every input is checked before any runs, and named by its place in the request: the engine splits a request
  // into batches and would name an input by its place in its batch, after running the batches before it.
  const int64_t longest = engine_.embedding_max_tokens();
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t n = std::ssize(ids[i]);
    if (n == 0) return Bad("input", "input " + std::to_string(i) + " is empty");
    if (n > longest)
      return Bad("input", "input " + std::to_string(i) + " is " + std::to_string(n) + " tokens; embeddings take at most " +
                              std::to_string(longest) + " an input (serve --embedding-max-tokens)");
  }
  auto vectors = engine_.Embed(std::move(ids), pooling_);
  if (!vectors.ok())
    return ApiErrorFromStatus(vectors.status(), vectors.status().code() == Status::Code::kInvalidArgument ? "input" : "");
  const int64_t dim = vectors->empty() ? 0 : static_cast<int64_t>(vectors->front().size());
  if (dimensions_given && dimensions != dim)
    return Bad("dimensions", "this model's embeddings have " + std::to_string(dim) +
                                 " dimensions; 'dimensions' cannot change that");

  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < vectors->size(); ++i) {
    nlohmann::json item = {{"object", "embedding"}, {"index", i}};
    if (format == "base64") item["embedding"] = Base64Floats((*vectors)[i]);
    else item["embedding"] = std::move((*vectors)[i]);
    data.push_back(std::move(item));
  }
  return nlohmann::json{{"object", "list"},
                        {"data", std::move(data)},
                        {"model", model_name_},
                        {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

}  // namespace strata
