#include "photon/gcs/pubsub.h"

#include <algorithm>

namespace photon::gcs {
namespace {
constexpr int kMaxBatch = 1000;
constexpr int64_t kDefaultPollMs = 30000;
}  // namespace

bool Publisher::Matches(const rpc::PollRequest& req, const rpc::PubMessage& msg) {
  if (!req.key_filter().empty() && req.key_filter() != msg.key()) return false;
  for (int c : req.channels()) {
    if (c == msg.channel()) return true;
  }
  return false;
}

int Publisher::Collect(const rpc::PollRequest& req, rpc::PollReply* reply) {
  int n = 0;
  // Sequence numbers in the log are contiguous: find the first after after_seq.
  if (!log_.empty()) {
    int64_t first = log_.front().seq();
    size_t start = req.after_seq() < first ? 0 : static_cast<size_t>(req.after_seq() - first + 1);
    for (size_t i = start; i < log_.size() && n < kMaxBatch; ++i) {
      if (Matches(req, log_[i])) {
        *reply->add_messages() = log_[i];
        ++n;
      }
    }
  }
  reply->set_last_seq(next_seq_ - 1);
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
        ready.push_back(*it);
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : ready) p.reactor->Finish(grpc::Status::OK);
}

void Publisher::Poll(grpc::ServerUnaryReactor* reactor, const rpc::PollRequest* request,
                     rpc::PollReply* reply) {
  {
    absl::MutexLock lock(&mu_);
    if (request->after_seq() < 0 || Collect(*request, reply) > 0) {
      reply->set_last_seq(next_seq_ - 1);
    } else {
      int64_t ms = request->timeout_ms() > 0 ? request->timeout_ms() : kDefaultPollMs;
      parked_.push_back(Parked{reactor, request, reply, absl::Now() + absl::Milliseconds(ms)});
      return;
    }
  }
  reactor->Finish(grpc::Status::OK);
}

void Publisher::Tick() {
  std::vector<Parked> expired;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (it->deadline <= now) {
        it->reply->set_last_seq(next_seq_ - 1);
        expired.push_back(*it);
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : expired) p.reactor->Finish(grpc::Status::OK);
}

void Publisher::FlushAll() {
  std::list<Parked> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(parked_);
  }
  for (auto& p : all)
    p.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "GCS stopping"));
}

}  // namespace photon::gcs
