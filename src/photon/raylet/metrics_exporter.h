// The node's Prometheus endpoint: GET /metrics on --metrics-export-port
// (served by cpp-httplib) answers with the metrics of every process of the
// node in the text exposition format: the raylet's own (its registry and
// collectors), each live worker's and driver's (MetricsService.GetMetrics,
// asked in parallel at scrape time, so a node nobody scrapes pays nothing),
// and on the head node the GCS's. Each source's samples carry Component
// (raylet, core_worker, gcs_server) and, for workers, WorkerId; all carry
// SessionName and NodeAddress, as Ray labels them.
//
// A process that does not answer within metrics_scrape_timeout_ms is left
// out of that scrape (and logged); the scrape still answers.
//
// Threading: httplib serves on its own threads (two); Scrape is thread-safe
// as long as `targets` is.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "photon/stats/metrics.h"
#include "photon/stats/prometheus_text.h"

namespace httplib {
class Server;
}

namespace photon::raylet {

class MetricsExporter {
 public:
  struct Target {
    stats::Labels labels;  // Component, WorkerId, ...
    std::string address;   // host:port of a MetricsService
  };
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: any free port
    stats::Labels common_labels;
    int64_t scrape_timeout_ms = 2000;
  };
  MetricsExporter(Options options, stats::Registry* local,
                  std::function<std::vector<Target>()> targets);
  ~MetricsExporter();

  // Binds and serves. Unavailable naming the port if it cannot be bound.
  absl::Status Start();
  void Stop();
  int port() const { return port_; }

  // What GET /metrics answers.
  std::string Scrape();

 private:
  const Options options_;
  stats::Registry* const local_;
  const std::function<std::vector<Target>()> targets_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// Node-wide gauges every raylet exports: photon_node_cpu_utilization,
// photon_node_cpu_count, photon_node_mem_{used,available,total},
// photon_node_disk_{usage,free,utilization_percentage} (of `disk_path`).
// CPU utilization is over the time since the previous call.
class NodeSystemMetrics {
 public:
  explicit NodeSystemMetrics(std::string disk_path) : disk_path_(std::move(disk_path)) {}
  void Collect(std::vector<rpc::MetricFamily>* out);

 private:
  const std::string disk_path_;
  absl::Mutex mu_;
  uint64_t last_total_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_busy_ ABSL_GUARDED_BY(mu_) = 0;
};

// The busy and total jiffies of the "cpu" line of /proc/stat's text; false
// if there is none.
bool ParseProcStatCpu(const std::string& text, uint64_t* busy, uint64_t* total);

}  // namespace photon::raylet
