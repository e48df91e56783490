// The vocabulary of the scheduling policies: what is asked, how the policies
// are tuned, and what they decide. Each policy (one file each here) is a
// function of a ClusterView and a request; the raylet and the GCS call the
// same code (scheduler.h composes them).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"
#include "photon/raylet/scheduling/cluster_view.h"
#include "photon/raylet/scheduling/resource_set.h"

namespace photon::raylet {

struct SchedulingRequest {
  ResourceSet resources;
  rpc::SchedulingStrategy strategy;
  // Sent here by another node (grant_or_reject): decide here or refuse,
  // never send it on again.
  bool spilled = false;
  std::string name;  // of the task or actor, for messages
};

struct SchedulingOptions {
  double spread_threshold = 0.5;  // scheduler_spread_threshold
  double top_k_fraction = 0.2;    // scheduler_top_k_fraction
  int64_t top_k_absolute = 1;     // scheduler_top_k_absolute
  bool avoid_gpu_nodes = true;    // CPU-only work keeps off GPU nodes while others fit

  static SchedulingOptions FromConfig(const SystemConfig& config);
};

// What a policy chose.
struct SchedulingDecision {
  enum class Kind {
    kLocal,          // run (or wait) on the local node
    kRemote,         // send it to `node`
    kInfeasible,     // no node can ever run it now: wait for one that can to join
    kUnschedulable,  // its strategy can never be met: fail it with `message`
  };
  Kind kind = Kind::kLocal;
  NodeID node;
  std::string message;

  static SchedulingDecision Local() { return {Kind::kLocal, NodeID::Nil(), ""}; }
  static SchedulingDecision Remote(const NodeID& n) { return {Kind::kRemote, n, ""}; }
};

// State the policies keep between decisions (the scheduler's, not the
// policies'): where SPREAD goes next, and the randomness of the default
// policy's pick among the least loaded. Not thread-safe.
struct SchedulingState {
  uint64_t spread_next = 0;
  std::mt19937_64 rng{std::random_device{}()};
};

}  // namespace photon::raylet
