#include "photon/stats/metrics_service.h"

namespace photon::stats {

grpc::ServerUnaryReactor* MetricsServiceImpl::GetMetrics(grpc::CallbackServerContext* ctx,
                                                         const rpc::GetMetricsRequest*,
                                                         rpc::GetMetricsReply* reply) {
  for (auto& f : registry_->Collect()) *reply->add_families() = std::move(f);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace photon::stats
