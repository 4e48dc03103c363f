#include "engine/llm_engine.h"

#include <algorithm>

#include "core/log.h"
#include "engine/generate_service.h"
#include "engine/json_grammar.h"
#include "engine/request_trace.h"
#include "engine/spec_verify.h"
#include "engine/speculator.h"
#include "engine/stop_checker.h"
#include "engine/token_mask.h"
#include "runtime/profiler.h"

namespace strata {

struct LlmEngine::Active {
  GenerateRequest req;
  Sequence seq;
  Sampler sampler;
  StopChecker stop;
  Utf8StreamDecoder decoder;
  std::unique_ptr<JsonMatcher> matcher;
  std::vector<uint8_t> mask;
  RequestTimeline timeline;  // arrival, first scheduled, first token
  Clock::time_point last_token;
  int32_t spec_k = 0;                      // speculative decoding: drafts to ask for next
  std::unique_ptr<Sampler> draft_sampler;  // the draft model's draws, on a generator of their own

  explicit Active(GenerateRequest r) : req(std::move(r)), sampler(req.sampling), stop(req.stop) {}
};

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
    case FinishReason::kError: return "error";
    case FinishReason::kNone: break;
  }
  return "";
}

Result<std::unique_ptr<LlmEngine>> LlmEngine::Create(ExecutorSource source, const Tokenizer& tokenizer,
                                                    const EngineConfig& config) {
  if (!source.make || source.kv_bytes_per_token <= 0) return Status::InvalidArgument("no executor to run");
  if (config.block_size <= 0) return Status::InvalidArgument("block size must be positive");
  if (config.scheduler.max_num_seqs <= 0 || config.scheduler.max_num_batched_tokens <= 0)
    return Status::InvalidArgument("max_num_seqs and max_num_batched_tokens must be positive");
  const int64_t n_ctx = source.n_ctx;
  const int64_t max_len = config.max_model_len > 0 ? config.max_model_len : n_ctx;
  if (max_len > n_ctx)
    return Status::InvalidArgument("max model length " + std::to_string(max_len) +
                                   " exceeds the model's context length " + std::to_string(n_ctx));
  const bool draft = config.spec.method == SpecConfig::Method::kDraftModel;
  if (draft && config.spec.draft.kv_bytes_per_token <= 0) return Status::InvalidArgument("no draft model to run");
  if (draft && config.spec.draft.n_ctx < max_len)
    return Status::InvalidArgument("the draft model's context of " + std::to_string(config.spec.draft.n_ctx) +
                                   " tokens is shorter than the model length " + std::to_string(max_len) +
                                   "; lower --max-model-len (or -c)");
  // A draft model keeps its own cache of the same blocks: one token costs both models' bytes.
  const int64_t per_token = source.kv_bytes_per_token + (draft ? config.spec.draft.kv_bytes_per_token : 0);
  const int64_t per_block = per_token * config.block_size;
  int64_t bytes = config.kv_cache_bytes;
  if (bytes <= 0) bytes = std::min<int64_t>(int64_t{config.scheduler.max_num_seqs} * max_len * per_token, int64_t{4} << 30);
  const int64_t blocks = bytes / per_block;
  const int64_t need = (max_len + config.block_size - 1) / config.block_size;
  if (blocks < need)
    return Status::InvalidArgument("a KV cache of " + std::to_string(bytes) + " bytes holds " +
                                   std::to_string(blocks * config.block_size) + " tokens, less than one full context of " +
                                   std::to_string(max_len) + " (" + std::to_string(need * per_block) +
                                   " bytes); raise --kv-cache-memory or lower --max-model-len");
  if (blocks > (int64_t{1} << 30)) return Status::InvalidArgument("KV cache too large");
  std::unique_ptr<LlmEngine> engine(new LlmEngine(source, tokenizer, config, max_len, static_cast<int32_t>(blocks)));
  if (config.spec.enabled()) {
    STRATA_ASSIGN_OR_RETURN(engine->spec_, Speculator::Create(config.spec, tokenizer, engine->runner_->n_vocab(),
                                                              blocks, config.block_size));
    engine->metrics_.EnableSpecDecode(config.spec.num_tokens);
    spdlog::info("speculative decoding: {}, up to {} drafts a step{}", engine->spec_->drafter_name(),
                 config.spec.num_tokens, config.spec.adaptive ? " (adaptive)" : "");
  }
  return engine;
}

const char* LlmEngine::spec_method() const { return spec_ ? spec_->drafter_name() : nullptr; }

LlmEngine::LlmEngine(const ExecutorSource& source, const Tokenizer& tokenizer, const EngineConfig& config,
                     int64_t max_model_len, int32_t num_blocks)
    : tokenizer_(tokenizer), config_(config), max_model_len_(max_model_len),
      runner_(source.make(num_blocks, config.block_size)),
      kv_(num_blocks, config.block_size, config.prefix_caching), scheduler_(config.scheduler, kv_) {
  spdlog::info("KV cache: {} blocks of {} tokens ({:.1f} MiB)", num_blocks, config.block_size,
                  static_cast<double>(runner_->kv_cache_bytes()) / (1 << 20));
}

LlmEngine::~LlmEngine() = default;

Status LlmEngine::Validate(const GenerateRequest& r) const {
  return ValidateRequestShape(r, tokenizer_.n_vocab(), max_model_len_);
}

Status LlmEngine::Add(GenerateRequest r) {
  STRATA_RETURN_IF_ERROR(Validate(r));
  if (active_.count(r.id)) return Status::InvalidArgument("duplicate request id " + r.id);
  auto a = std::make_unique<Active>(std::move(r));
  if (a->req.grammar) {
    if (!trie_) trie_ = std::make_unique<TokenTrie>(tokenizer_);
    a->matcher = std::make_unique<JsonMatcher>(a->req.grammar);
  }
  a->seq.id = a->req.id;
  a->seq.tokens = a->req.prompt;
  a->seq.num_prompt = a->seq.num_tokens();
  if (spec_) {
    a->spec_k = spec_->initial_k();
    SamplingParams draft = a->req.sampling;
    draft.logprobs = false;
    if (draft.seed) draft.seed = *draft.seed ^ 0x9e3779b97f4a7c15ull;  // reproducible, but not the target's draws
    a->draft_sampler = std::make_unique<Sampler>(draft);
  }
  scheduler_.Add(&a->seq);
  active_.emplace(a->req.id, std::move(a));
  return Status::Ok();
}

void LlmEngine::Abort(const std::string& id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  GenerateOutput delta;
  Finish(*it->second, FinishReason::kAbort, delta);
  pending_.push_back(std::move(delta));
}

// Each sequence's scheduled tokens, then its drafts (whose every row gets logits, to verify them).
void LlmEngine::BuildBatch(const SchedulerOutput& out) {
  batch_.tokens.clear();
  batch_.seqs.clear();
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    const ScheduledSequence& s = out.scheduled[i];
    const Sequence& q = *s.seq;
    const std::vector<int32_t>* drafts = jobs_.empty() ? nullptr : &jobs_[i].tokens;
    const auto num_drafts = static_cast<int64_t>(drafts ? drafts->size() : 0);
    batch_.seqs.push_back({.first_row = static_cast<int64_t>(batch_.tokens.size()), .num_rows = s.num_tokens + num_drafts,
                           .start_pos = q.num_computed, .block_table = q.block_table, .want_logits = s.samples,
                           .all_logits = num_drafts > 0});
    batch_.tokens.insert(batch_.tokens.end(), q.tokens.begin() + q.num_computed,
                         q.tokens.begin() + q.num_computed + s.num_tokens);
    if (drafts) batch_.tokens.insert(batch_.tokens.end(), drafts->begin(), drafts->end());
  }
}

// How many drafts each decoding sequence asks for at the next step (the scheduler reserves their slots).
void LlmEngine::PlanLookahead() {
  for (auto& [id, a] : active_) {
    Sequence& q = a->seq;
    const bool decoding = !q.block_table.empty() && q.num_computed == q.num_tokens() - 1;
    const int64_t left = std::min(a->req.max_tokens - q.num_generated(), max_model_len_ - q.num_tokens());
    q.lookahead = decoding ? spec_->Wanted(a->spec_k, left) : 0;
  }
}

// One job per scheduled sequence (jobs_[i] for out.scheduled[i]); those with reserved slots get drafts.
Status LlmEngine::Draft(const SchedulerOutput& out) {
  jobs_.clear();
  jobs_.resize(out.scheduled.size());
  std::vector<DraftJob> wanted;
  std::vector<size_t> index;
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    const ScheduledSequence& s = out.scheduled[i];
    if (s.num_lookahead <= 0) continue;
    Active& a = *active_.at(s.seq->id);
    DraftJob job{.seq = s.seq, .k = s.num_lookahead, .sampler = a.draft_sampler.get()};
    if (a.matcher) {
      job.matcher = std::make_unique<JsonMatcher>(*a.matcher);
      job.trie = trie_.get();
      job.eos_id = tokenizer_.eos_id();
    }
    wanted.push_back(std::move(job));
    index.push_back(i);
  }
  STRATA_RETURN_IF_ERROR(spec_->Propose(out, wanted));
  for (size_t j = 0; j < wanted.size(); ++j) jobs_[index[j]] = std::move(wanted[j]);
  return Status::Ok();
}

void LlmEngine::NoteAdmissions(const SchedulerOutput& out) {
  metrics_.AddPreemptions(static_cast<int64_t>(out.preempted.size()));
  for (const ScheduledSequence& s : out.scheduled) {
    Active& a = *active_.at(s.seq->id);
    if (a.timeline.was_scheduled()) continue;
    a.timeline.scheduled = Clock::now();
    metrics_.AddPrefixCacheQuery(s.seq->num_prompt, s.seq->num_cached_prefix);
  }
}

std::vector<GenerateOutput> LlmEngine::Step() {
  std::vector<GenerateOutput> outputs = std::move(pending_);
  pending_.clear();
  if (spec_) PlanLookahead();
  const SchedulerOutput out = [&] {
    TraceScope scope(Track::kHost, 0, "schedule");
    SchedulerOutput scheduled = scheduler_.Schedule();
    if (scope.on())
      scope.set_args("\"sequences\":" + std::to_string(scheduled.scheduled.size()) +
                     ",\"preempted\":" + std::to_string(scheduled.preempted.size()));
    return scheduled;
  }();
  if (out.empty()) return outputs;
  NoteAdmissions(out);
  if (spec_) {
    if (Status st = Draft(out); !st.ok()) {
      FailAll(out, st, outputs);
      return outputs;
    }
  }
  BuildBatch(out);
  auto logits = runner_->Run(batch_);
  if (!logits.ok()) {
    FailAll(out, logits.status(), outputs);
    return outputs;
  }
  scheduler_.Commit(out);
  TraceScope sample(Track::kHost, 0, "sample");  // sampling, detokenizing and stop checks of the step
  int64_t row = 0;
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    const ScheduledSequence& s = out.scheduled[i];
    if (!s.samples) continue;
    const DraftJob* job = jobs_.empty() || jobs_[i].tokens.empty() ? nullptr : &jobs_[i];
    if (!job) {
      ProcessSample(*active_.at(s.seq->id), logits->row(row++), outputs);
      continue;
    }
    row += s.num_tokens - 1;  // every row has logits; the drafts are checked from the last scheduled one on
    ProcessDrafts(*active_.at(s.seq->id), logits->row(row), *job, outputs);
    row += 1 + static_cast<int64_t>(job->tokens.size());
  }
  jobs_.clear();
  return outputs;
}

// The structured-output mask for the request's next token, or null for free text.
const std::vector<uint8_t>* LlmEngine::MaskFor(Active& a) {
  if (!a.matcher) return nullptr;
  // Tokens left: the document must close within them, so a cut at max_tokens still parses.
  const int64_t budget = std::min(a.req.max_tokens - a.seq.num_generated(), max_model_len_ - a.seq.num_tokens());
  ComputeTokenMask(*a.matcher, *trie_, tokenizer_.eos_id(), a.mask, budget);
  return &a.mask;
}

// Latency metrics for `n` tokens of one step; `first`: they open the request's output (the first is its TTFT).
void LlmEngine::NoteTokens(Active& a, int64_t n, bool first) {
  const Clock::time_point now = Clock::now();
  if (first) {  // tokens that come with the first have no time of their own
    a.timeline.first_token = now;
    metrics_.ObserveTimeToFirstToken(std::chrono::duration<double>(now - a.timeline.arrival).count());
    metrics_.AddPromptTokens(a.seq.num_prompt);
    a.last_token = now;
    return;
  }
  // Tokens that arrive together share the time since the last delta.
  for (int64_t i = 0; i < n; ++i)
    metrics_.ObserveTimePerOutputToken(std::chrono::duration<double>(now - a.last_token).count() / static_cast<double>(n));
  a.last_token = now;
}

void LlmEngine::ProcessSample(Active& a, const float* logits, std::vector<GenerateOutput>& outputs) {
  const auto n_vocab = static_cast<size_t>(runner_->n_vocab());
  const std::vector<uint8_t>* mask = MaskFor(a);
  const SampleResult s =
      a.sampler.Sample(std::span<const float>(logits, n_vocab), a.seq.prompt(), a.seq.generated(), mask);
  NoteTokens(a, 1, a.seq.num_generated() == 0);
  metrics_.AddGenerationTokens(1);
  GenerateOutput delta;
  delta.id = a.req.id;
  const FinishReason reason = AppendToken(a, s, delta);
  if (reason != FinishReason::kNone) Finish(a, reason, delta);  // erases `a`
  outputs.push_back(std::move(delta));
}

// Checks the drafts row by row (rows[i] predicts the token after draft i-1), appending each kept draft and then
// the target's own token at the first rejection, or its bonus token when every draft was kept. The cache then
// holds the pending token and the kept drafts; what the rejected ones wrote is past num_computed and is
// overwritten later, as the draft model's is.
void LlmEngine::ProcessDrafts(Active& a, const float* rows, const DraftJob& job, std::vector<GenerateOutput>& outputs) {
  const auto n_vocab = static_cast<size_t>(runner_->n_vocab());
  const auto k = static_cast<int64_t>(job.tokens.size());
  GenerateOutput delta;
  delta.id = a.req.id;
  int64_t accepted = 0;
  const bool first = a.seq.num_generated() == 0;
  FinishReason reason = FinishReason::kNone;
  for (int64_t i = 0; i <= k && reason == FinishReason::kNone; ++i) {
    const std::span<const float> row(rows + static_cast<size_t>(i) * n_vocab, n_vocab);
    const std::vector<uint8_t>* mask = MaskFor(a);
    DraftVerdict v;
    if (i < k) {
      const auto probs = static_cast<size_t>(i) < job.probs.size() ? std::span<const float>(job.probs[static_cast<size_t>(i)])
                                                                  : std::span<const float>();
      v = VerifyDraft(a.sampler, row, a.seq.prompt(), a.seq.generated(), mask, job.tokens[static_cast<size_t>(i)], probs);
    } else {
      v.result = a.sampler.Sample(row, a.seq.prompt(), a.seq.generated(), mask);
    }
    reason = AppendToken(a, v.result, delta);
    if (!v.accepted) break;
    ++accepted;
  }
  NoteTokens(a, static_cast<int64_t>(delta.tokens.size()), first);
  metrics_.AddGenerationTokens(static_cast<int64_t>(delta.tokens.size()));
  metrics_.AddSpecDecode(k, accepted);
  if (reason != FinishReason::kNone) {
    Finish(a, reason, delta);  // erases `a`
  } else {
    a.seq.num_computed += accepted;
    a.seq.num_draft_computed = std::min(a.seq.num_draft_computed, a.seq.num_computed);
    kv_.CacheFullBlocks(a.seq);
    a.spec_k = spec_->Adapt(a.spec_k, k, accepted);
  }
  outputs.push_back(std::move(delta));
}

FinishReason LlmEngine::AppendToken(Active& a, const SampleResult& s, GenerateOutput& delta) {
  a.seq.tokens.push_back(s.token);
  delta.tokens.push_back(s.token);
  if (a.req.sampling.logprobs) delta.logprobs.push_back(s);
  const bool eos = s.token == tokenizer_.eos_id() && (!a.req.ignore_eos || a.matcher);
  if (eos || std::find(a.req.stop_token_ids.begin(), a.req.stop_token_ids.end(), s.token) != a.req.stop_token_ids.end())
    return FinishReason::kStop;
  const std::string bytes = tokenizer_.TokenBytes(s.token);
  if (a.matcher) a.matcher->Accept(bytes);
  delta.text += a.stop.Push(a.decoder.Push(bytes));
  if (a.stop.stopped()) return FinishReason::kStop;
  if (a.seq.num_generated() >= a.req.max_tokens || a.seq.num_tokens() >= max_model_len_) return FinishReason::kLength;
  return FinishReason::kNone;
}

void LlmEngine::Finish(Active& a, FinishReason reason, GenerateOutput& delta) {
  if (!a.stop.stopped()) {
    delta.text += a.stop.Push(a.decoder.Flush());
    if (!a.stop.stopped()) delta.text += a.stop.Flush();
  }
  delta.id = a.req.id;
  delta.finished = true;
  delta.finish_reason = reason;
  delta.prompt_tokens = a.seq.num_prompt;
  delta.completion_tokens = a.seq.num_generated();
  delta.cached_tokens = a.seq.num_cached_prefix;
  const Clock::time_point now = Clock::now();
  metrics_.FinishRequest(reason, std::chrono::duration<double>(now - a.timeline.arrival).count());
  TraceRequestLifecycle(a.req.id, a.timeline, now);
  scheduler_.Remove(&a.seq);
  active_.erase(a.req.id);
}

int64_t LlmEngine::embedding_max_tokens() const {
  // By default as many tokens as a generation step may batch: the activations of the step, no more.
  return config_.embedding_max_tokens > 0 ? std::min(config_.embedding_max_tokens, max_model_len_)
                                          : std::min(max_model_len_, config_.scheduler.max_num_batched_tokens);
}

Result<std::vector<std::vector<float>>> LlmEngine::Embed(std::span<const std::vector<int32_t>> inputs,
                                                        Pooling pooling) {
  if (!embedder_) {
    // A twin of the step's executor: the same packed weights and thread pool, its own arena (and the embedder
    // its own small KV cache), so embeddings cost no second copy of the model.
    auto* local = dynamic_cast<ModelRunner*>(runner_.get());
    if (!local || local->tp() != 1)
      return Status::Unsupported("embeddings need the whole model in this process (not split over ranks)");
    STRATA_ASSIGN_OR_RETURN(embedder_, Embedder::Create(local->executor(0).Twin(), embedding_max_tokens()));
  }
  return embedder_->Embed(inputs, pooling);  // the executor checks the ids before it runs anything
}

void LlmEngine::FailAll(const SchedulerOutput& out, const Status& st, std::vector<GenerateOutput>& outputs) {
  spdlog::error("step failed: {}", st.message());
  for (const ScheduledSequence& s : out.scheduled) {
    GenerateOutput delta;
    delta.error = st.message();
    Finish(*active_.at(s.seq->id), FinishReason::kError, delta);
    outputs.push_back(std::move(delta));
  }
}

}  // namespace strata
