// The GCS's publisher: a bounded, sequence-numbered log of state changes that
// subscribers read by long poll (see PubsubGcsService in gcs.proto).
//
// A poll that finds nothing new is parked until a matching message is
// published or its timeout passes (an expiry scheduled on the timer); then
// its reply is filled and `done` runs. A subscriber that reconnects resumes
// from its last sequence number, so nothing published meanwhile is lost
// while it is still in the log. Sequence numbers count within one
// incarnation of the publisher (one GCS process): a poll that names another
// incarnation (its subscriber was reading a GCS that has since restarted)
// is answered from the start of this one's log.
//
// Threading: one mutex guards the log and the parked polls; `done` callbacks
// run outside it, on the publishing thread or the timer's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/timer.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::gcs {

class Publisher {
 public:
  // `timer` runs the expiry of parked polls and must outlive the publisher.
  explicit Publisher(Timer* timer, size_t max_log = 100000, uint64_t incarnation = 0)
      : timer_(timer), max_log_(max_log), incarnation_(incarnation) {}

  // Appends `msg` (its seq is assigned here) and answers every parked poll it
  // matches.
  void Publish(rpc::PubMessage msg);

  // Fills `reply` and runs `done` at once if the log has matching messages
  // after request.after_seq (or after_seq < 0: just the current position),
  // else parks the poll until Publish or its timeout. `request` and `reply`
  // must stay valid until `done` runs.
  void Poll(const rpc::PollRequest* request, rpc::PollReply* reply,
            std::function<void(bool ok)> done);

  // Answers every parked poll with ok = false (at shutdown).
  void FlushAll();

  size_t NumParked() const;

 private:
  struct Parked {
    uint64_t id;
    const rpc::PollRequest* request;
    rpc::PollReply* reply;
    std::function<void(bool)> done;
  };
  static bool Matches(const rpc::PollRequest& req, const rpc::PubMessage& msg);
  // Fills `reply` with matching messages after req.after_seq; returns how many.
  int Collect(const rpc::PollRequest& req, rpc::PollReply* reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Expire(uint64_t id);
  // The request's after_seq, read in this incarnation.
  int64_t AfterSeq(const rpc::PollRequest& req) const;
  void SetPosition(rpc::PollReply* reply) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Timer* const timer_;
  const size_t max_log_;
  const uint64_t incarnation_;
  mutable absl::Mutex mu_;
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_poll_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<rpc::PubMessage> log_ ABSL_GUARDED_BY(mu_);
  std::list<Parked> parked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::gcs
