#include "cli/chat_session.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "model/model_chat_template.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Texts of tokens that end a turn in the chat formats people use (llama.cpp treats these as end-of-generation
// too): a model whose EOS is another token still stops at the end of its answer.
constexpr std::string_view kEndOfTurnPieces[] = {"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>",
                                                 "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>",
                                                 "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};

size_t CommonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

Result<std::vector<ChatMessage>> ParseMessages(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json& list = j.is_object() && j.contains("messages") ? j["messages"] : j;
  if (!list.is_array()) return Status::InvalidArgument(path + ": expected a JSON array of messages");
  std::vector<ChatMessage> out;
  for (const auto& m : list) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      return Status::InvalidArgument(path + ": each message needs a string \"role\" and \"content\"");
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

}  // namespace

ChatSession::ChatSession(CpuExecutor& exec, const Tokenizer& tok, const ChatTemplate& tmpl, ChatOptions options)
    : exec_(exec), tok_(tok), tmpl_(tmpl), options_(std::move(options)) {
  for (int32_t id = 0; id < tok_.n_vocab(); ++id)
    if (std::find(std::begin(kEndOfTurnPieces), std::end(kEndOfTurnPieces), tok_.Piece(id)) !=
        std::end(kEndOfTurnPieces))
      end_of_turn_.push_back(id);
  Reset();
}

void ChatSession::Reset() {
  messages_.clear();
  if (!options_.system.empty()) messages_.push_back({"system", options_.system});
  cached_.clear();
  exec_.Reset();
  last_ = {};
}

bool ChatSession::EndsTurn(int32_t token) const {
  if (options_.ignore_eos) return false;
  return token == tok_.eos_id() || std::find(end_of_turn_.begin(), end_of_turn_.end(), token) != end_of_turn_.end();
}

Result<std::vector<int32_t>> ChatSession::Render() const {
  const nlohmann::ordered_json json = ChatMessagesToJson(messages_);
  STRATA_ASSIGN_OR_RETURN(std::string text, tmpl_.Render({.messages = &json, .add_generation_prompt = true,
                                                               .variables = options_.template_vars.is_object()
                                                                                ? &options_.template_vars
                                                                                : nullptr}));
  return EncodeRenderedChat(tok_, &tmpl_.special_tokens(), text, /*add_special=*/true);
}

Result<std::vector<int32_t>> ChatSession::RenderFitting(int64_t budget, int& dropped) {
  dropped = 0;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(std::vector<int32_t> ids, Render());
    if (ids.empty()) return Status::InvalidArgument("the chat template rendered nothing to run");
    if (static_cast<int64_t>(ids.size()) <= budget) return ids;
    // The oldest message after the system prompt goes, and the rest of its turn with it, so the conversation
    // still starts with a user message.
    const size_t first = !messages_.empty() && messages_[0].role == "system" ? 1 : 0;
    if (messages_.size() - first <= 1)
      return Status::InvalidArgument("the message is " + std::to_string(ids.size()) + " tokens with the system prompt; " +
                                     "the context leaves " + std::to_string(budget) + " for it");
    size_t end = first + 1;
    while (end < messages_.size() - 1 && messages_[end].role != "user") ++end;
    dropped += static_cast<int>(end - first);
    messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(first),
                    messages_.begin() + static_cast<std::ptrdiff_t>(end));
  }
}

Result<Logits> ChatSession::Prefill(const std::vector<int32_t>& ids, TurnStats& stats, const std::atomic<bool>& stop) {
  // Keep what the cache shares with the new prompt; at least the last prompt token runs, for its logits.
  size_t keep = options_.prefix_reuse ? CommonPrefix(cached_, ids) : 0;
  keep = std::min(keep, ids.size() - 1);
  exec_.Truncate(static_cast<int64_t>(keep));
  cached_.resize(keep);
  stats.reused_tokens = static_cast<int64_t>(keep);
  stats.prefill_tokens = static_cast<int64_t>(ids.size() - keep);
  Logits logits;
  const size_t batch = static_cast<size_t>(std::max(1, options_.batch));
  for (size_t i = keep; i < ids.size(); i += batch) {
    if (stop.load()) break;  // the turn ends before its answer; the cache keeps the chunks that ran
    const size_t n = std::min(ids.size() - i, batch);
    STRATA_ASSIGN_OR_RETURN(logits, exec_.Forward(std::span(ids).subspan(i, n), false));
    cached_.insert(cached_.end(), ids.begin() + static_cast<std::ptrdiff_t>(i),
                   ids.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  return logits;
}

Result<TurnStats> ChatSession::Turn(std::string_view user, const Emit& answer, const Emit& notice,
                                    const std::atomic<bool>& stop) {
  const auto t0 = Clock::now();
  TurnStats stats;
  const std::vector<ChatMessage> before = messages_;
  messages_.push_back({"user", std::string(user)});
  // Room for the answer: what --n-predict asks for, else a quarter of the context; at most half of it.
  const int64_t n_ctx = exec_.n_ctx();
  const int64_t reserve = std::min(options_.max_tokens > 0 ? options_.max_tokens : n_ctx / 4, n_ctx / 2);
  auto ids = RenderFitting(n_ctx - reserve, stats.dropped_messages);
  if (!ids.ok()) {
    messages_ = before;
    return ids.status();
  }
  if (stats.dropped_messages > 0)
    notice("[context full: dropped the " + std::to_string(stats.dropped_messages) + " oldest messages]");
  stats.prompt_tokens = static_cast<int64_t>(ids->size());
  auto logits = Prefill(*ids, stats, stop);
  if (!logits.ok()) {
    messages_ = before;
    return logits.status();
  }
  stats.prefill_s = Seconds(t0);

  Sampler sampler(options_.sampling);
  std::vector<int32_t> out;
  Utf8StreamDecoder decoder;
  std::string text;
  auto emit = [&](std::string s) {
    text += s;
    if (!s.empty()) answer(s);
  };
  Logits l = *logits;
  Clock::time_point first;
  while (options_.max_tokens < 0 || static_cast<int64_t>(out.size()) < options_.max_tokens) {
    if (stop.load()) {
      stats.interrupted = true;
      break;
    }
    const int32_t t = sampler.Sample(std::span(l.last(), static_cast<size_t>(l.n_vocab)), *ids, out).token;
    if (out.empty()) first = Clock::now(), stats.first_token_s = Seconds(t0);
    if (EndsTurn(t)) break;
    out.push_back(t);
    emit(decoder.Push(tok_.TokenBytes(t)));
    if (exec_.n_past() >= n_ctx) {
      stats.context_full = true;
      break;
    }
    const int32_t one[1] = {t};
    auto step = exec_.Forward(one, false);
    if (!step.ok()) {
      messages_ = before;
      return step.status();
    }
    cached_.push_back(t);
    l = *step;
  }
  emit(decoder.Flush());
  if (stats.context_full) notice("[context full: the answer stops here; the next message drops the oldest turns]");
  stats.generated = static_cast<int64_t>(out.size());
  if (!out.empty()) stats.decode_s = Seconds(first);
  messages_.push_back({"assistant", text});
  last_ = stats;
  return stats;
}

Status ChatSession::Save(const std::string& path) const {
  nlohmann::ordered_json j = ChatMessagesToJson(messages_);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError(path + ": cannot write");
  // User text may hold invalid UTF-8 (answers never do: the stream decoder repairs them): saved as U+FFFD.
  out << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  out.close();
  if (!out) return Status::IoError(path + ": write failed");
  return Status::Ok();
}

Status ChatSession::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  STRATA_ASSIGN_OR_RETURN(std::vector<ChatMessage> messages, ParseMessages(j, path));
  // The next message is the user's: a conversation ending in one would give two in a row, which templates that
  // check turn order refuse at every turn after.
  if (!messages.empty() && messages.back().role == "user")
    return Status::InvalidArgument(path + ": the conversation ends with a user message; load one that ends with an "
                                   "answer (or remove the last message)");
  messages_ = std::move(messages);
  last_ = {};
  return Status::Ok();
}

}  // namespace strata::cli
