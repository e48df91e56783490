// Metrics: counters, gauges and histograms a process records, and the
// collectors that compute gauges from a component's state when asked. The
// raylet's /metrics endpoint (raylet/metrics_exporter.h) gathers them from
// every process of its node in the Prometheus text format (prometheus_text.h).
//
// A metric is defined once per process by name (Registry::Define): defining
// it again with the same type and tag keys returns the same metric, so a
// Python `Counter("x")` made in every call of an actor counts in one place.
// Each combination of tag values is a series; its value lives in atomics, so
// recording into a series already seen takes a shared lock and no allocation.
//
// Threading: everything here is thread-safe. Collectors run on the thread
// that calls Collect, without the registry's metric lock; RemoveCollector
// waits for a collection in progress, so it must not be called while holding
// a lock the collector takes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "photon/protocol/metrics.pb.h"

namespace photon::stats {

enum class MetricType { kGauge, kCounter, kHistogram };

// The prefix of every metric Photon exports (Ray's is "ray_").
inline constexpr char kMetricPrefix[] = "photon_";

struct MetricDescriptor {
  std::string name;  // as exported: [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> tag_keys;
  std::vector<double> boundaries;  // histograms: increasing bucket upper bounds
};

// One series: the value for one combination of tag values.
class Series {
 public:
  explicit Series(size_t num_buckets) : buckets_(num_buckets + 1) {}
  void Add(double v);
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  // Histograms: the bucket is the first boundary >= v (else +Inf).
  void Observe(absl::Span<const double> boundaries, double v);
  void ToProto(rpc::MetricSample* out) const;

 private:
  std::atomic<double> value_{0};
  std::vector<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Metric {
 public:
  explicit Metric(MetricDescriptor d) : d_(std::move(d)) {}
  const MetricDescriptor& descriptor() const { return d_; }

  // The series of `tag_values` (in tag_keys order; missing trailing ones are
  // ""). The pointer stays valid for the process's life: hot paths keep it.
  Series* Bind(absl::Span<const std::string> tag_values);
  // Counters add `value`, gauges take it, histograms observe it.
  void Record(double value, absl::Span<const std::string> tag_values = {});
  void Record(Series* series, double value);
  void ToProto(rpc::MetricFamily* out) const;

 private:
  const MetricDescriptor d_;
  mutable absl::Mutex mu_;
  // node_hash_map: series never move.
  absl::node_hash_map<std::vector<std::string>, Series> series_ ABSL_GUARDED_BY(mu_);
};

// Appends to `out` the families a component computes from its state.
using Collector = std::function<void(std::vector<rpc::MetricFamily>* out)>;

class Registry {
 public:
  // The process's registry: what its MetricsService (metrics_service.h) exports.
  static Registry& Default();

  // The metric named d.name: defined now, or the one defined before if its
  // type, tag keys and boundaries are the same (InvalidArgument naming the
  // difference otherwise, or a bad name, tag key or boundaries).
  absl::StatusOr<Metric*> Define(MetricDescriptor d);
  // Define for Photon's own metrics (a bad definition is a bug: it aborts).
  Metric* DefineOrDie(MetricDescriptor d);

  int AddCollector(Collector c);
  void RemoveCollector(int id);

  // Every metric with at least one series, then every collector's families.
  std::vector<rpc::MetricFamily> Collect();

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Metric>> metrics_ ABSL_GUARDED_BY(mu_);
  // Held shared while collectors run, exclusively to add or remove one.
  absl::Mutex collectors_mu_;
  std::vector<std::pair<int, Collector>> collectors_ ABSL_GUARDED_BY(collectors_mu_);
  int next_collector_ ABSL_GUARDED_BY(collectors_mu_) = 1;
};

// Removes its collector from the registry when destroyed.
class ScopedCollector {
 public:
  ScopedCollector() = default;
  ScopedCollector(Registry* r, Collector c) : registry_(r), id_(r->AddCollector(std::move(c))) {}
  ~ScopedCollector() { Reset(); }
  ScopedCollector(const ScopedCollector&) = delete;
  ScopedCollector& operator=(const ScopedCollector&) = delete;
  ScopedCollector& operator=(ScopedCollector&& o) noexcept;
  void Reset();

 private:
  Registry* registry_ = nullptr;
  int id_ = 0;
};

// Builds a family for a collector: `GaugeFamily(out, "photon_x", "help")`
// then `.Add({{"State", "ALIVE"}}, 3)`.
class FamilyBuilder {
 public:
  FamilyBuilder(std::vector<rpc::MetricFamily>* out, std::string name, std::string help,
                MetricType type = MetricType::kGauge);
  FamilyBuilder& Add(const std::vector<std::pair<std::string, std::string>>& labels, double value);

 private:
  std::vector<rpc::MetricFamily>* out_;
  size_t index_;
};

// True if `name` is a valid Prometheus metric name; `label` for label names
// (no ':' and not starting with "__").
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

rpc::MetricType ToProtoType(MetricType t);

}  // namespace photon::stats
