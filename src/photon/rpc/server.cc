#include "photon/rpc/server.h"

#include <grpcpp/support/server_interceptor.h>

#include <algorithm>
#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/rpc/auth.h"
#include "photon/stats/metrics.h"

namespace photon::rpc {

namespace {

// Per method: how long the server took to answer (from the call's arrival
// to its status), and how many calls ended, failed or not.
struct MethodSeries {
  stats::Series* time_ms;
  stats::Series* succeeded;
  stats::Series* failed;
};

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(const MethodSeries* series)
      : series_(series), start_(std::chrono::steady_clock::now()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
              .count();
      static const std::vector<double> kBounds = ProcessTimeBoundaries();
      series_->time_ms->Observe(kBounds, ms);
      (methods->GetSendStatus().ok() ? series_->succeeded : series_->failed)->Add(1);
    }
    methods->Proceed();
  }
  static std::vector<double> ProcessTimeBoundaries() {
    return {0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000};
  }

 private:
  const MethodSeries* series_;
  std::chrono::steady_clock::time_point start_;
};

// One per process: the metrics of every method any of its servers serves.
class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(SeriesOf(info->method()));
  }

 private:
  const MethodSeries* SeriesOf(const char* method) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = by_method_.find(method);
      if (it != by_method_.end()) return it->second.get();
    }
    static stats::Metric* time = stats::Registry::Default().DefineOrDie(
        {"photon_grpc_server_req_process_time_ms",
         "Time a gRPC server took to answer a request, by method (ms)",
         stats::MetricType::kHistogram,
         {"Method"},
         MetricsInterceptor::ProcessTimeBoundaries()});
    static stats::Metric* succeeded =
        stats::Registry::Default().DefineOrDie({"photon_grpc_server_req_succeeded",
                                                "gRPC requests answered with OK, by method",
                                                stats::MetricType::kCounter,
                                                {"Method"},
                                                {}});
    static stats::Metric* failed =
        stats::Registry::Default().DefineOrDie({"photon_grpc_server_req_failed",
                                                "gRPC requests answered with an error, by method",
                                                stats::MetricType::kCounter,
                                                {"Method"},
                                                {}});
    // "/photon.rpc.CoreWorkerService/PushTask" -> "CoreWorkerService.PushTask"
    std::string name = method == nullptr ? "" : method;
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (size_t dot = name.rfind('.', name.find('/')); dot != std::string::npos) {
      name.erase(0, dot + 1);
    }
    std::replace(name.begin(), name.end(), '/', '.');
    std::vector<std::string> tags{name};
    auto series = std::make_unique<MethodSeries>(
        MethodSeries{time->Bind(tags), succeeded->Bind(tags), failed->Bind(tags)});
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = by_method_.try_emplace(method, std::move(series));
    return it->second.get();
  }

  absl::Mutex mu_;
  // Keyed by the method's name pointer: gRPC keeps one per registered method.
  absl::flat_hash_map<const char*, std::unique_ptr<MethodSeries>> by_method_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

GrpcServer::GrpcServer(std::string name, std::string host, int port, std::string token)
    : name_(std::move(name)), host_(std::move(host)), port_(port), token_(std::move(token)) {}

GrpcServer::~GrpcServer() { Shutdown(0); }

void GrpcServer::RegisterService(grpc::Service* service) { services_.push_back(service); }

absl::Status GrpcServer::Start() {
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(fmt::format("{}:{}", host_, port_),
                           ServerCredentialsWithToken(name_, token_), &bound_port);
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  // Small RPCs dominate; avoid the default of holding calls for batching.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  // gRPC takes the creators it is given; each wraps the process's one factory.
  struct ForwardingFactory : grpc::experimental::ServerInterceptorFactoryInterface {
    grpc::experimental::Interceptor* CreateServerInterceptor(
        grpc::experimental::ServerRpcInfo* info) override {
      static MetricsInterceptorFactory* shared = new MetricsInterceptorFactory();
      return shared->CreateServerInterceptor(info);
    }
  };
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<ForwardingFactory>());
  builder.experimental().SetInterceptorCreators(std::move(creators));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound_port == 0) {
    return absl::UnavailableError(fmt::format("{}: cannot listen on {}:{}", name_, host_, port_));
  }
  port_ = bound_port;
  PHOTON_LOG_INFO("{} listening on {}:{}{}", name_, host_, port_,
                  token_.empty() ? " (no cluster token required)" : "");
  return absl::OkStatus();
}

std::string GrpcServer::address() const { return fmt::format("{}:{}", host_, port_); }

void GrpcServer::Shutdown(int64_t deadline_ms) {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  server_.reset();
}

}  // namespace photon::rpc
