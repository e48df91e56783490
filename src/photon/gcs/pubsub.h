// The GCS's publisher: a bounded, sequence-numbered log of state changes that
// subscribers read by long poll (see PubsubGcsService in gcs.proto).
//
// Threading: one mutex guards the log and the parked polls; Publish and Poll
// are called from gRPC callback threads, Tick from the GCS's timer thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <list>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/protocol/gcs.grpc.pb.h"

namespace photon::gcs {

class Publisher {
 public:
  explicit Publisher(size_t max_log = 100000) : max_log_(max_log) {}

  // Appends `msg` (its seq is assigned here) and answers every parked poll it matches.
  void Publish(rpc::PubMessage msg);

  // Answers at once if the log has matching messages after request.after_seq,
  // else parks the call until Publish or its timeout.
  void Poll(grpc::ServerUnaryReactor* reactor, const rpc::PollRequest* request,
            rpc::PollReply* reply);

  // Answers parked polls whose timeout has passed, with no messages.
  void Tick();

  // Answers every parked poll (at shutdown).
  void FlushAll();

 private:
  struct Parked {
    grpc::ServerUnaryReactor* reactor;
    const rpc::PollRequest* request;
    rpc::PollReply* reply;
    absl::Time deadline;
  };
  static bool Matches(const rpc::PollRequest& req, const rpc::PubMessage& msg);
  // Fills `reply` with matching messages after req.after_seq; returns how many.
  int Collect(const rpc::PollRequest& req, rpc::PollReply* reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_log_;
  absl::Mutex mu_;
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<rpc::PubMessage> log_ ABSL_GUARDED_BY(mu_);
  std::list<Parked> parked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::gcs
