#include "coe/coe_engine.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "runtime/model_runner.h"
#include "runtime/profiler.h"

namespace strata::coe {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

GenerateOutput Final(const std::string& id, FinishReason reason, std::string error = "") {
  return {.id = id, .finished = true, .finish_reason = reason, .error = std::move(error)};
}

}  // namespace

struct CoeEngine::Slot {
  enum class State { kDisk, kQueued, kLoading, kResident };
  State state = State::kDisk;
  std::vector<ir::Plan> plans;       // RAM tier: what the engine runs
  std::unique_ptr<LlmEngine> engine;
  std::vector<Pending> waiting;      // requests that came while the expert was not resident
  bool busy() const { return !waiting.empty() || (engine && engine->has_work()); }
};

CoeEngine::CoeEngine(const CoeConfig& config, const CoeEngineOptions& options)
    : name_(config.name), budget_(config.ram_budget), options_(options), residency_(config.ram_budget) {}

Result<std::unique_ptr<CoeEngine>> CoeEngine::Create(const CoeConfig& config, const CoeEngineOptions& options) {
  if (options.compile.tp != 1 || options.compile.pp != 1)
    return Status::InvalidArgument("a Composition of Experts runs each expert in one process (no --tp or --pp)");
  std::unique_ptr<CoeEngine> e(new CoeEngine(config, options));
  STRATA_RETURN_IF_ERROR(e->OpenExperts(config));
  const auto largest = std::max_element(e->experts_.begin(), e->experts_.end(), [](const auto& a, const auto& b) {
    return a.footprint.total() < b.footprint.total();
  });
  if (largest->footprint.total() > config.ram_budget)
    return Status::InvalidArgument("ram_budget " + FormatBytes(config.ram_budget) + " cannot hold expert '" +
                                   largest->name + "', which needs " + largest->footprint.Describe() +
                                   "; raise ram_budget or lower kv_per_expert / --max-num-batched-tokens");
  std::vector<std::string> names;
  for (const ExpertInfo& x : e->experts_) names.push_back(x.name);
  e->metrics_ = std::make_unique<CoeMetrics>(config.name, names);
  e->pool_ = std::make_unique<ThreadPool>(options.threads);
  for (size_t i = 0; i < e->experts_.size(); ++i) e->slots_.push_back(std::make_unique<Slot>());
  e->loader_ = std::thread([p = e.get()] { p->LoaderLoop(); });
  e->thread_ = std::thread([p = e.get()] { p->Loop(); });
  return e;
}

// Each expert is compiled once here only to account for its memory; the plans are dropped and the pages
// read given back, so start-up leaves every expert on the disk tier.
Status CoeEngine::OpenExperts(const CoeConfig& config) {
  for (size_t i = 0; i < config.experts.size(); ++i) {
    const ExpertSpec& spec = config.experts[i];
    auto model = Model::Load(spec.model.string(), nullptr, {.touch_weights = false});
    if (!model.ok()) return Status(model.status().code(), "expert '" + spec.name + "': " + model.status().message());
    auto plans = ir::Compile(**model, options_.compile);
    if (!plans.ok()) return Status(plans.status().code(), "expert '" + spec.name + "': " + plans.status().message());
    ExpertInfo info{.name = spec.name, .model = std::move(*model)};
    const ir::Plan& plan = plans->front();
    info.max_model_len = options_.engine.max_model_len > 0 ? std::min(options_.engine.max_model_len, plan.kv.n_ctx)
                                                           : plan.kv.n_ctx;
    const int64_t per_token = ModelRunner::KvBytesPerToken(*plans);
    info.kv_bytes = config.kv_per_expert > 0
                        ? config.kv_per_expert
                        : std::min<int64_t>(int64_t{options_.engine.scheduler.max_num_seqs} * info.max_model_len *
                                                per_token, int64_t{4} << 30);
    info.footprint = MeasureFootprint(*plans, info.kv_bytes, options_.engine, info.max_model_len);
    info.model->ReleaseWeightPages();
    experts_.push_back(std::move(info));
    if (options_.progress) options_.progress(static_cast<int>(i + 1), static_cast<int>(config.experts.size()));
  }
  return Status::Ok();
}

CoeEngine::~CoeEngine() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  loader_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (loader_.joinable()) loader_.join();
}

int CoeEngine::Find(const std::string& name) const {
  for (size_t i = 0; i < experts_.size(); ++i)
    if (experts_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<std::string> CoeEngine::events() const {
  std::lock_guard l(mu_);
  return events_;
}

void CoeEngine::Event(std::string e) {
  spdlog::info("coe: {}", e);
  std::lock_guard l(mu_);
  events_.push_back(std::move(e));
}

Result<std::shared_ptr<OutputStream>> CoeEngine::Submit(int expert, GenerateRequest r) {
  if (expert < 0 || expert >= num_experts()) return Status::InvalidArgument("no such expert");
  const ExpertInfo& info = experts_[static_cast<size_t>(expert)];
  STRATA_RETURN_IF_ERROR(ValidateRequestShape(r, info.model->tokenizer().n_vocab(), info.max_model_len));
  metrics_->Request(expert);
  auto stream = std::make_shared<OutputStream>();
  {
    std::lock_guard l(mu_);
    inbox_.submits.emplace_back(expert, Pending{std::move(r), stream, Profiler::NowUs()});
  }
  cv_.notify_all();
  return stream;
}

void CoeEngine::Abort(const std::string& id) {
  {
    std::lock_guard l(mu_);
    inbox_.aborts.push_back(id);
  }
  cv_.notify_all();
}

void CoeEngine::Prefetch(int expert) {
  if (expert < 0 || expert >= num_experts()) return;
  {
    std::lock_guard l(mu_);
    inbox_.prefetches.push_back(expert);
  }
  cv_.notify_all();
}

// ---- the loop thread ----

bool CoeEngine::Idle() const {
  if (stop_ || !inbox_.submits.empty() || !inbox_.aborts.empty() || !inbox_.prefetches.empty() || !finished_.empty())
    return false;
  if (!loading_ && !load_queue_.empty()) return false;  // a load may start (an expert may have gone idle)
  return std::none_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->engine && s->engine->has_work(); });
}

void CoeEngine::Loop() {
  for (;;) {
    Inbox in;
    {
      std::unique_lock l(mu_);
      cv_.wait(l, [&] { return !Idle(); });
      if (stop_) return;
      std::swap(in, inbox_);
    }
    Drain(in);
    InstallLoads();
    StartLoad();
    StepRound();
    PublishGauges();
  }
}

void CoeEngine::Drain(Inbox& in) {
  for (int e : in.prefetches) Want(e);
  for (auto& [e, p] : in.submits) Admit(e, std::move(p));
  for (const std::string& id : in.aborts) AbortOne(id);
}

void CoeEngine::Admit(int expert, Pending p) {
  Slot& s = *slots_[static_cast<size_t>(expert)];
  owner_[p.req.id] = expert;
  residency_.Touch(expert);
  if (s.state != Slot::State::kResident) {
    s.waiting.push_back(std::move(p));
    Want(expert);
    return;
  }
  const std::string id = p.req.id;
  if (Status st = s.engine->Add(std::move(p.req)); !st.ok()) {
    p.stream->Push(Final(id, FinishReason::kError, st.message()));
    owner_.erase(id);
    return;
  }
  streams_[id] = std::move(p.stream);
}

void CoeEngine::AbortOne(const std::string& id) {
  auto it = owner_.find(id);
  if (it == owner_.end()) return;
  Slot& s = *slots_[static_cast<size_t>(it->second)];
  auto w = std::find_if(s.waiting.begin(), s.waiting.end(), [&](const Pending& p) { return p.req.id == id; });
  if (w != s.waiting.end()) {
    w->stream->Push(Final(id, FinishReason::kAbort));
    s.waiting.erase(w);
    owner_.erase(it);
    return;
  }
  if (s.engine) s.engine->Abort(id);  // its final delta comes from the next step
}

void CoeEngine::Want(int expert) {
  Slot& s = *slots_[static_cast<size_t>(expert)];
  if (s.state != Slot::State::kDisk) return;
  s.state = Slot::State::kQueued;
  load_queue_.push_back(expert);
}

// The next queued expert starts loading once room is made for it: least recently used idle experts are
// evicted; when the busy ones leave no room, it waits (they finish their requests, then become evictable).
void CoeEngine::StartLoad() {
  {
    std::lock_guard l(mu_);
    if (loading_ || load_queue_.empty()) return;
  }
  const int next = load_queue_.front();
  const int64_t need = experts_[static_cast<size_t>(next)].footprint.total();
  auto victims = residency_.Victims(need, [&](int e) {
    const Slot& s = *slots_[static_cast<size_t>(e)];
    return s.state == Slot::State::kResident && !s.busy();
  });
  if (!victims) return;
  for (int v : *victims) Evict(v);
  load_queue_.pop_front();
  residency_.Add(next, need);
  slots_[static_cast<size_t>(next)]->state = Slot::State::kLoading;
  Event("load " + experts_[static_cast<size_t>(next)].name);
  {
    std::lock_guard l(mu_);
    load_job_ = next;
    loading_ = true;
  }
  loader_cv_.notify_all();
}

// Nothing is written back: the weights are read-only, the KV cache and arena are dropped with the engine.
void CoeEngine::Evict(int expert) {
  Slot& s = *slots_[static_cast<size_t>(expert)];
  s.engine.reset();
  s.plans.clear();
  experts_[static_cast<size_t>(expert)].model->ReleaseWeightPages();
  s.state = Slot::State::kDisk;
  residency_.Remove(expert);
  metrics_->Evict(expert);
  Event("evict " + experts_[static_cast<size_t>(expert)].name);
#ifdef __GLIBC__
  malloc_trim(0);  // freed KV and arena memory goes back to the system, so resident memory follows the budget
#endif
}

void CoeEngine::InstallLoads() {
  std::vector<std::pair<int, Result<Loaded>>> done;
  {
    std::lock_guard l(mu_);
    done.swap(finished_);
  }
  const int64_t now = Profiler::NowUs();
  for (auto& [e, loaded] : done) {
    Slot& s = *slots_[static_cast<size_t>(e)];
    const ExpertInfo& info = experts_[static_cast<size_t>(e)];
    std::vector<Pending> waiting;
    waiting.swap(s.waiting);
    if (!loaded.ok()) {
      spdlog::error("coe: expert '{}' failed to load: {}", info.name, loaded.status().message());
      residency_.Remove(e);
      s.state = Slot::State::kDisk;
      for (Pending& p : waiting) {
        p.stream->Push(Final(p.req.id, FinishReason::kError, "expert '" + info.name + "' failed to load: " +
                                                                  loaded.status().message()));
        owner_.erase(p.req.id);
      }
      continue;
    }
    s.plans = std::move(loaded->plans);
    s.engine = std::move(loaded->engine);
    s.state = Slot::State::kResident;
    metrics_->Load(e, loaded->seconds, info.footprint.weights);
    for (Pending& p : waiting) {
      if (Profiler* prof = Profiler::active()) prof->RequestPhase(p.req.id, "waiting for " + info.name, p.since_us, now);
      Admit(e, std::move(p));
    }
  }
}

// One step for every resident expert with work, starting one further along each round so no expert is
// always first.
void CoeEngine::StepRound() {
  const size_t n = slots_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t e = (round_start_ + k) % n;
    Slot& s = *slots_[e];
    if (!s.engine || !s.engine->has_work()) continue;
    residency_.Touch(static_cast<int>(e));
    Deliver(static_cast<int>(e), s.engine->Step());
  }
  round_start_ = (round_start_ + 1) % std::max<size_t>(n, 1);
}

void CoeEngine::Deliver(int expert, std::vector<GenerateOutput> outputs) {
  for (GenerateOutput& out : outputs) {
    auto it = streams_.find(out.id);
    if (it == streams_.end()) continue;
    metrics_->Tokens(expert, 0, static_cast<int64_t>(out.tokens.size()));
    if (out.finished) metrics_->Tokens(expert, out.prompt_tokens, 0);
    const bool finished = out.finished;
    const std::string id = out.id;
    it->second->Push(std::move(out));
    if (finished) {
      streams_.erase(it);
      owner_.erase(id);
    }
  }
}

void CoeEngine::PublishGauges() {
  CoeGauges g;
  for (size_t e = 0; e < slots_.size(); ++e) {
    const Slot& s = *slots_[e];
    if (s.state == Slot::State::kResident || s.state == Slot::State::kLoading) g.resident_experts++;
    if (s.engine) g.running += static_cast<int64_t>(s.engine->num_running());
    g.waiting_for_load += static_cast<int64_t>(s.waiting.size());
  }
  g.resident_bytes = residency_.used();
  metrics_->SetGauges(g);
}

// ---- the loader thread ----

void CoeEngine::LoaderLoop() {
  for (;;) {
    int job = -1;
    {
      std::unique_lock l(mu_);
      loader_cv_.wait(l, [&] { return stop_ || load_job_ >= 0; });
      if (stop_) return;
      std::swap(job, load_job_);
    }
    auto loaded = Load(job);
    {
      std::lock_guard l(mu_);
      finished_.emplace_back(job, std::move(loaded));
      loading_ = false;
    }
    cv_.notify_all();
  }
}

// Compiles the expert and makes its engine: the executor packs the projections (reading the weights from the
// mapped file, the disk -> RAM copy), then the file pages read are given back (the packed copies are what
// the steps read). On the copies track of the trace.
Result<CoeEngine::Loaded> CoeEngine::Load(int expert) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t begin_us = Profiler::NowUs();
  const ExpertInfo& info = experts_[static_cast<size_t>(expert)];
  Loaded out;
  auto plans = ir::Compile(*info.model, options_.compile);
  if (!plans.ok()) return plans.status();
  out.plans = std::move(*plans);
  EngineConfig config = options_.engine;
  config.kv_cache_bytes = info.kv_bytes;
  config.max_model_len = info.max_model_len;
  auto engine = LlmEngine::Create(out.plans, info.model->tokenizer(), *pool_, config);
  if (!engine.ok()) return engine.status();
  out.engine = std::move(*engine);
  info.model->ReleaseWeightPages();
  out.seconds = SecondsSince(start);
  if (Profiler* prof = Profiler::active())
    prof->Slice(Track::kExpertLoads, 0, "load " + info.name, begin_us, Profiler::NowUs(),
                "\"expert\":\"" + info.name + "\",\"bytes\":" + std::to_string(info.footprint.weights));
  return out;
}

}  // namespace strata::coe
