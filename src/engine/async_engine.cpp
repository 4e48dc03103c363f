#include "engine/async_engine.h"

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
  {
    std::lock_guard l(mu_);
    inbox.swap(inbox_);
    aborts.swap(aborts_);
  }
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
      cv_.wait(l, [&] { return stop_ || !inbox_.empty() || !aborts_.empty() || engine_->has_work(); });
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
