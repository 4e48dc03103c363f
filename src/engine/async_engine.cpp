#include "engine/async_engine.h"

#include <iterator>
#include <new>

namespace strata {

AsyncEngine::AsyncEngine(std::unique_ptr<LlmEngine> engine)
    : engine_(std::move(engine)), thread_([this] { Loop(); }) {}

AsyncEngine::~AsyncEngine() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& job : jobs_) job(nullptr);  // waiters get an error rather than wait forever
}

// One job a batch's worth of inputs (what fits embedding_max_tokens), so generation steps run between the
// batches of a large request instead of waiting for all of it.
Result<std::vector<std::vector<float>>> AsyncEngine::Embed(std::vector<std::vector<int32_t>> inputs, Pooling pooling) {
  using Out = Result<std::vector<std::vector<float>>>;
  const int64_t budget = engine_->embedding_max_tokens();
  std::vector<std::vector<float>> all;
  all.reserve(inputs.size());
  for (size_t begin = 0; begin < inputs.size();) {
    size_t end = begin;
    int64_t tokens = 0;
    while (end < inputs.size() && (end == begin || tokens + std::ssize(inputs[end]) <= budget))
      tokens += std::ssize(inputs[end++]);
    std::vector<std::vector<int32_t>> part(std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(begin)),
                                           std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(end)));
    auto promise = std::make_shared<std::promise<Out>>();
    std::future<Out> done = promise->get_future();
    {
      std::lock_guard l(mu_);
      if (stop_) return Status::Unavailable("the engine is shutting down");
      jobs_.push_back([promise, part = std::move(part), pooling](LlmEngine* engine) {
        if (!engine) return promise->set_value(Status::Unavailable("the engine stopped"));
        // The first call makes the embedder's cache and arena: an allocation failure answers this request
        // instead of ending the engine thread (and the server).
        try {
          promise->set_value(engine->Embed(part, pooling));
        } catch (const std::bad_alloc&) {
          promise->set_value(Status::Unavailable("out of memory for the embeddings' cache or activations"));
        }
      });
    }
    cv_.notify_all();
    STRATA_ASSIGN_OR_RETURN(auto vectors, done.get());
    for (auto& v : vectors) all.push_back(std::move(v));
    begin = end;
  }
  return all;
}

std::string AsyncEngine::NextId(const char* prefix) {
  return std::string(prefix) + "-" + std::to_string(next_id_.fetch_add(1));
}

Result<std::shared_ptr<OutputStream>> AsyncEngine::Submit(GenerateRequest r) {
  STRATA_RETURN_IF_ERROR(engine_->Validate(r));
  auto stream = std::make_shared<OutputStream>();
  {
    std::lock_guard l(mu_);
    inbox_.emplace_back(std::move(r), stream);
  }
  cv_.notify_all();
  return stream;
}

void AsyncEngine::Abort(const std::string& id) {
  {
    std::lock_guard l(mu_);
    aborts_.push_back(id);
  }
  cv_.notify_all();
}

void AsyncEngine::DrainInbox() {
  std::vector<std::pair<GenerateRequest, std::shared_ptr<OutputStream>>> inbox;
  std::vector<std::string> aborts;
  std::vector<std::function<void(LlmEngine*)>> jobs;
  {
    std::lock_guard l(mu_);
    inbox.swap(inbox_);
    aborts.swap(aborts_);
    jobs.swap(jobs_);
  }
  for (auto& job : jobs) job(engine_.get());
  for (auto& [req, stream] : inbox) {
    const std::string id = req.id;
    if (Status st = engine_->Add(std::move(req)); !st.ok()) {
      stream->Push({.id = id, .finished = true, .finish_reason = FinishReason::kError, .error = st.message()});
      continue;
    }
    streams_[id] = stream;
  }
  for (const std::string& id : aborts) engine_->Abort(id);
}

void AsyncEngine::PublishGauges() {
  std::lock_guard l(mu_);
  engine_->metrics().SetGauges({.running = static_cast<int64_t>(engine_->num_running()),
                                .waiting = static_cast<int64_t>(engine_->num_waiting() + inbox_.size()),
                                .kv_cache_usage = engine_->kv_cache_usage()});
}

void AsyncEngine::Loop() {
  for (;;) {
    {
      std::unique_lock l(mu_);
      cv_.wait(l, [&] { return stop_ || !inbox_.empty() || !aborts_.empty() || !jobs_.empty() || engine_->has_work();
      });
      if (stop_) return;
    }
    DrainInbox();
    for (GenerateOutput& out : engine_->Step()) {
      auto it = streams_.find(out.id);
      if (it == streams_.end()) continue;
      const bool finished = out.finished;
      it->second->Push(std::move(out));
      if (finished) streams_.erase(it);
    }
    PublishGauges();
  }
}

}  // namespace strata
