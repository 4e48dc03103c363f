#include "router/stream_pipe.h"

namespace strata {

void StreamPipe::Attach(httplib::Client* client) {
  std::lock_guard lock(mu_);
  client_ = client;
  if (cancelled_) client_->stop();
}

void StreamPipe::Detach() {
  std::lock_guard lock(mu_);
  client_ = nullptr;
}

void StreamPipe::SetHead(int status, std::string content_type) {
  {
    std::lock_guard lock(mu_);
    head_ = true;
    status_ = status;
    content_type_ = std::move(content_type);
  }
  cv_.notify_all();
}

bool StreamPipe::Push(const char* data, size_t n) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, stall_, [&] { return cancelled_ || queued_ < capacity_; })) cancelled_ = true;
  if (cancelled_) return false;
  chunks_.emplace_back(data, n);
  queued_ += n;
  lock.unlock();
  cv_.notify_all();
  return true;
}

void StreamPipe::Close(bool complete) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    complete_ = complete;
  }
  cv_.notify_all();
}

StreamPipe::Head StreamPipe::WaitHead(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return head_ || closed_; })) return Head::kTimeout;
  return head_ ? Head::kReady : Head::kFailed;
}

int StreamPipe::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::string StreamPipe::content_type() const {
  std::lock_guard lock(mu_);
  return content_type_;
}

StreamPipe::Next StreamPipe::Pop(std::string& chunk, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return !chunks_.empty() || closed_; });
  if (!chunks_.empty()) {
    chunk = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= chunk.size();
    lock.unlock();
    cv_.notify_all();
    return Next::kChunk;
  }
  if (closed_) return complete_ ? Next::kEnd : Next::kBroken;
  return Next::kIdle;
}

std::string StreamPipe::ReadAll(size_t limit, bool& complete) {
  std::string all, chunk;
  for (;;) {
    const Next n = Pop(chunk, stall_);
    if (n == Next::kChunk) all += chunk;
    if (n == Next::kEnd || n == Next::kBroken) {
      complete = n == Next::kEnd;
      return all;
    }
    if (n == Next::kIdle || all.size() > limit) {
      complete = false;
      Cancel();
      return all;
    }
  }
}

void StreamPipe::Cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (client_) client_->stop();
  }
  cv_.notify_all();
}

bool StreamPipe::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

}  // namespace strata
