#include "photon/gcs/pubsub.h"

#include <algorithm>
#include <optional>

namespace photon::gcs {
namespace {
constexpr int kMaxBatch = 1000;
// A poll that names no timeout is parked at most this long.
constexpr int64_t kDefaultPollMs = 30000;
}  // namespace

bool Publisher::Matches(const rpc::PollRequest& req, const rpc::PubMessage& msg) {
  if (!req.key_filter().empty() && req.key_filter() != msg.key()) return false;
  for (int c : req.channels()) {
    if (c == msg.channel()) return true;
  }
  return false;
}

int64_t Publisher::AfterSeq(const rpc::PollRequest& req) const {
  if (req.after_seq() >= 0 && req.incarnation() != 0 && req.incarnation() != incarnation_) return 0;
  return req.after_seq();
}

void Publisher::SetPosition(rpc::PollReply* reply) const {
  reply->set_last_seq(next_seq_ - 1);
  reply->set_incarnation(incarnation_);
}

int Publisher::Collect(const rpc::PollRequest& req, rpc::PollReply* reply) {
  int n = 0;
  // Sequence numbers in the log are contiguous: find the first after after_seq.
  const int64_t after = AfterSeq(req);
  if (!log_.empty()) {
    int64_t first = log_.front().seq();
    size_t start = after < first ? 0 : static_cast<size_t>(after - first + 1);
    for (size_t i = start; i < log_.size() && n < kMaxBatch; ++i) {
      if (Matches(req, log_[i])) {
        *reply->add_messages() = log_[i];
        ++n;
      }
    }
  }
  SetPosition(reply);
  return n;
}

void Publisher::Publish(rpc::PubMessage msg) {
  std::vector<Parked> ready;
  {
    absl::MutexLock lock(&mu_);
    msg.set_seq(next_seq_++);
    log_.push_back(std::move(msg));
    if (log_.size() > max_log_) log_.pop_front();
    const rpc::PubMessage& m = log_.back();
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (Matches(*it->request, m)) {
        Collect(*it->request, it->reply);
        ready.push_back(std::move(*it));
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : ready) p.done(true);
}

void Publisher::Poll(const rpc::PollRequest* request, rpc::PollReply* reply,
                     std::function<void(bool ok)> done) {
  {
    absl::MutexLock lock(&mu_);
    if (request->after_seq() >= 0 && Collect(*request, reply) == 0) {
      int64_t ms = request->timeout_ms() > 0 ? request->timeout_ms() : kDefaultPollMs;
      uint64_t id = next_poll_++;
      parked_.push_back(Parked{id, request, reply, std::move(done)});
      timer_->RunAfter("expire parked poll", absl::Milliseconds(ms), [this, id] { Expire(id); });
      return;
    }
    SetPosition(reply);
  }
  done(true);
}

void Publisher::Expire(uint64_t id) {
  std::optional<Parked> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = parked_.begin(); it != parked_.end(); ++it) {
      if (it->id != id) continue;
      SetPosition(it->reply);
      expired = std::move(*it);
      parked_.erase(it);
      break;
    }
  }
  if (expired) expired->done(true);
}

void Publisher::FlushAll() {
  std::list<Parked> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(parked_);
  }
  for (auto& p : all) p.done(false);
}

size_t Publisher::NumParked() const {
  absl::MutexLock lock(&mu_);
  return parked_.size();
}

}  // namespace photon::gcs
