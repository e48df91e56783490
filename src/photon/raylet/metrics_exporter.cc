#include "photon/raylet/metrics_exporter.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/synchronization/blocking_counter.h"
#include "fmt/format.h"
#include "httplib.h"
#include "photon/common/logging.h"
#include "photon/protocol/metrics.grpc.pb.h"
#include "photon/raylet/memory_monitor.h"
#include "photon/rpc/client.h"

namespace photon::raylet {

MetricsExporter::MetricsExporter(Options options, stats::Registry* local,
                                 std::function<std::vector<Target>()> targets)
    : options_(std::move(options)), local_(local), targets_(std::move(targets)) {}

MetricsExporter::~MetricsExporter() { Stop(); }

absl::Status MetricsExporter::Start() {
  server_ = std::make_unique<httplib::Server>();
  // Scrapes are rare and each fans out to the node's processes: two threads.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Photon node metrics: GET /metrics (Prometheus text format)\n", "text/plain");
  });
  int port = options_.port > 0
                 ? (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1)
                 : server_->bind_to_any_port(options_.host);
  if (port <= 0) {
    server_.reset();
    return absl::UnavailableError(
        fmt::format("cannot serve metrics on {}:{} (--metrics-export-port): the port is taken or "
                    "not allowed",
                    options_.host, options_.port));
  }
  port_ = port;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  PHOTON_LOG_INFO("metrics on http://{}:{}/metrics", options_.host, port_);
  return absl::OkStatus();
}

void MetricsExporter::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string MetricsExporter::Scrape() {
  std::vector<Target> targets = targets_();
  std::vector<stats::SourceFamilies> sources(targets.size() + 1);
  sources[0].labels = options_.common_labels;
  sources[0].labels.emplace_back("Component", "raylet");
  std::vector<std::unique_ptr<rpc::MetricsService::Stub>> stubs;
  absl::BlockingCounter pending(static_cast<int>(targets.size()));
  for (size_t i = 0; i < targets.size(); ++i) {
    stats::SourceFamilies& src = sources[i + 1];
    src.labels = options_.common_labels;
    for (const auto& l : targets[i].labels) src.labels.push_back(l);
    auto& stub =
        stubs.emplace_back(rpc::MetricsService::NewStub(rpc::GetChannel(targets[i].address)));
    rpc::CallAsync(
        stub->async(), &rpc::MetricsService::Stub::async::GetMetrics, "MetricsService.GetMetrics",
        rpc::GetMetricsRequest(), options_.scrape_timeout_ms,
        [&src, &pending, address = targets[i].address](const absl::Status& s,
                                                       rpc::GetMetricsReply&& reply) {
          if (s.ok()) {
            src.families.assign(std::make_move_iterator(reply.mutable_families()->begin()),
                                std::make_move_iterator(reply.mutable_families()->end()));
          } else {
            PHOTON_LOG_DEBUG("metrics of {} left out of this scrape: {}", address,
                             std::string(s.message()));
          }
          pending.DecrementCount();
        });
  }
  // Meanwhile, this process's own.
  sources[0].families = local_->Collect();
  pending.Wait();
  return stats::RenderPrometheusText(sources);
}

bool ParseProcStatCpu(const std::string& text, uint64_t* busy, uint64_t* total) {
  std::istringstream in(text);
  std::string label;
  in >> label;
  if (label != "cpu") return false;
  // user nice system idle iowait irq softirq steal (guest counted in user)
  uint64_t v[8] = {};
  for (auto& x : v) {
    if (!(in >> x)) break;
  }
  *total = 0;
  for (uint64_t x : v) *total += x;
  *busy = *total - v[3] - v[4];
  return *total > 0;
}

void NodeSystemMetrics::Collect(std::vector<rpc::MetricFamily>* out) {
  std::ifstream stat("/proc/stat");
  std::string line;
  std::getline(stat, line);
  uint64_t busy = 0, total = 0;
  if (ParseProcStatCpu(line, &busy, &total)) {
    double utilization = 0;
    {
      absl::MutexLock lock(&mu_);
      uint64_t dt = total - last_total_, db = busy - last_busy_;
      if (total > last_total_ && busy >= last_busy_) utilization = 100.0 * db / dt;
      last_total_ = total;
      last_busy_ = busy;
    }
    stats::FamilyBuilder(out, "photon_node_cpu_utilization",
                         "CPU use of the node in percent, since the previous scrape")
        .Add({}, utilization);
  }
  stats::FamilyBuilder(out, "photon_node_cpu_count", "CPUs of the node")
      .Add({}, static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)));
  if (auto mem = ReadNodeMemory(0, {}); mem.ok()) {
    stats::FamilyBuilder(out, "photon_node_mem_used", "Memory in use on the node (bytes)")
        .Add({}, static_cast<double>(mem->used_bytes));
    stats::FamilyBuilder(out, "photon_node_mem_available", "Memory available on the node (bytes)")
        .Add({}, static_cast<double>(mem->total_bytes - mem->used_bytes));
    stats::FamilyBuilder(out, "photon_node_mem_total", "Memory of the node (bytes)")
        .Add({}, static_cast<double>(mem->total_bytes));
  }
  struct statvfs fs {};
  if (statvfs(disk_path_.c_str(), &fs) == 0 && fs.f_blocks > 0) {
    double size = static_cast<double>(fs.f_blocks) * fs.f_frsize;
    double free = static_cast<double>(fs.f_bavail) * fs.f_frsize;
    double used = size - static_cast<double>(fs.f_bfree) * fs.f_frsize;
    stats::FamilyBuilder(out, "photon_node_disk_usage",
                         "Bytes used on the disk of the session folder")
        .Add({}, used);
    stats::FamilyBuilder(out, "photon_node_disk_free",
                         "Bytes free on the disk of the session folder")
        .Add({}, free);
    stats::FamilyBuilder(out, "photon_node_disk_utilization_percentage",
                         "Use of the disk of the session folder in percent")
        .Add({}, used + free > 0 ? 100.0 * used / (used + free) : 0);
  }
}

}  // namespace photon::raylet
