// One conversation of `strata chat` over a CpuExecutor: the messages, rendered by the model's chat template at
// each turn, and the token ids now in the executor's KV cache. A turn keeps the longest common prefix of the
// cache and the newly rendered conversation and runs only the rest (llama-server's cache_prompt), so a second
// turn costs its own tokens, not the whole conversation again. When the conversation no longer fits the context,
// the oldest turns (after the system prompt) are dropped and the caller is told.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/sampler.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"
#include "runtime/cpu_executor.h"

namespace strata::cli {

struct ChatOptions {
  std::string system;        // the system prompt ("" for none)
  int max_tokens = -1;       // per answer; < 0: until the end of the turn or a full context
  int batch = 512;           // prompt tokens per forward step
  bool prefix_reuse = true;  // false: re-run the whole conversation every turn (for comparison)
  bool ignore_eos = false;
  SamplingParams sampling;
  // Extra template variables, a JSON object (enable_thinking, ...), as llama.cpp's --chat-template-kwargs; null: none.
  nlohmann::ordered_json template_vars;
};

// What one turn did, for /stats.
struct TurnStats {
  int64_t prompt_tokens = 0;   // the rendered conversation, this turn's message included
  int64_t reused_tokens = 0;   // of those, found in the KV cache
  int64_t prefill_tokens = 0;  // of those, run this turn
  int64_t generated = 0;       // answer tokens
  double prefill_s = 0;        // prompt processing
  double first_token_s = 0;    // from the message to its first answer token
  double decode_s = 0;         // from the first answer token to the last
  int dropped_messages = 0;    // oldest messages dropped to fit the context
  bool interrupted = false;    // stopped by the user
  bool context_full = false;   // stopped because the context filled up
};

class ChatSession {
 public:
  using Emit = std::function<void(std::string_view)>;

  // All references must outlive the session.
  ChatSession(CpuExecutor& exec, const Tokenizer& tok, const ChatTemplate& tmpl, ChatOptions options);

  // Sends the user's message and streams the answer's text to `answer`; notices (dropped turns, a full context)
  // go to `notice`. `stop` is read between tokens: once set, the answer ends where it is and is kept.
  // A message that cannot fit the context, or a template error, gives an error and leaves the conversation
  // as it was.
  Result<TurnStats> Turn(std::string_view user, const Emit& answer, const Emit& notice, const std::atomic<bool>& stop);

  // Back to just the system prompt, with an empty cache.
  void Reset();
  // The conversation as OpenAI-style messages (a JSON array of {"role", "content"}).
  Status Save(const std::string& path) const;
  // Replaces the conversation by a saved one (an array of messages, or an object with one under "messages").
  // The cache is matched against it at the next turn.
  Status Load(const std::string& path);

  const std::vector<ChatMessage>& messages() const { return messages_; }
  const TurnStats& last() const { return last_; }
  int64_t context_used() const { return static_cast<int64_t>(cached_.size()); }
  int64_t context_size() const { return exec_.n_ctx(); }

 private:
  // The conversation with the generation prompt, as ids; drops oldest turns while it exceeds `budget` tokens.
  Result<std::vector<int32_t>> RenderFitting(int64_t budget, int& dropped);
  Result<std::vector<int32_t>> Render() const;
  // Makes the cache hold `ids` and returns the logits of the last one.
  Result<Logits> Prefill(const std::vector<int32_t>& ids, TurnStats& stats, const std::atomic<bool>& stop);
  bool EndsTurn(int32_t token) const;

  CpuExecutor& exec_;
  const Tokenizer& tok_;
  const ChatTemplate& tmpl_;
  ChatOptions options_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> cached_;     // the ids in the KV cache, in order
  std::vector<int32_t> end_of_turn_;  // ids that end an answer besides EOS (<|im_end|>, <|eot_id|>, ...)
  TurnStats last_;
};

}  // namespace strata::cli
