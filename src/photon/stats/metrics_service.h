// The MetricsService a process serves (core workers and the GCS): its
// registry's metrics, for the node's /metrics endpoint to gather.
//
// Threading: handlers run on gRPC callback threads; the registry is
// thread-safe.
#pragma once

#include "photon/protocol/metrics.grpc.pb.h"
#include "photon/stats/metrics.h"

namespace photon::stats {

class MetricsServiceImpl : public rpc::MetricsService::CallbackService {
 public:
  explicit MetricsServiceImpl(Registry* registry = &Registry::Default()) : registry_(registry) {}
  grpc::ServerUnaryReactor* GetMetrics(grpc::CallbackServerContext* ctx,
                                       const rpc::GetMetricsRequest* req,
                                       rpc::GetMetricsReply* reply) override;

 private:
  Registry* registry_;
};

}  // namespace photon::stats
