#include "photon/stats/metrics.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::stats {

namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGauge:
      break;
  }
  return "gauge";
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (!IsValidMetricName(name) || name.find(':') != std::string_view::npos) return false;
  return name.substr(0, 2) != "__";
}

rpc::MetricType ToProtoType(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return rpc::METRIC_COUNTER;
    case MetricType::kHistogram:
      return rpc::METRIC_HISTOGRAM;
    case MetricType::kGauge:
      break;
  }
  return rpc::METRIC_GAUGE;
}

void Series::Add(double v) { AtomicAdd(value_, v); }

void Series::Observe(absl::Span<const double> boundaries, double v) {
  size_t i = std::lower_bound(boundaries.begin(), boundaries.end(), v) - boundaries.begin();
  buckets_[std::min(i, buckets_.size() - 1)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

void Series::ToProto(rpc::MetricSample* out) const {
  out->set_value(value_.load(std::memory_order_relaxed));
  out->set_count(count_.load(std::memory_order_relaxed));
  out->set_sum(sum_.load(std::memory_order_relaxed));
  if (buckets_.size() > 1) {
    for (const auto& b : buckets_) out->add_bucket_counts(b.load(std::memory_order_relaxed));
  }
}

Series* Metric::Bind(absl::Span<const std::string> tag_values) {
  std::vector<std::string> key(d_.tag_keys.size());
  for (size_t i = 0; i < key.size() && i < tag_values.size(); ++i) key[i] = tag_values[i];
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return &it->second;
  }
  absl::MutexLock lock(&mu_);
  auto it = series_.try_emplace(std::move(key), d_.boundaries.size()).first;
  return &it->second;
}

void Metric::Record(Series* series, double value) {
  switch (d_.type) {
    case MetricType::kCounter:
      series->Add(value);
      break;
    case MetricType::kGauge:
      series->Set(value);
      break;
    case MetricType::kHistogram:
      series->Observe(d_.boundaries, value);
      break;
  }
}

void Metric::Record(double value, absl::Span<const std::string> tag_values) {
  Record(Bind(tag_values), value);
}

void Metric::ToProto(rpc::MetricFamily* out) const {
  out->set_name(d_.name);
  out->set_help(d_.help);
  out->set_type(ToProtoType(d_.type));
  for (double b : d_.boundaries) out->add_boundaries(b);
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [values, series] : series_) {
    rpc::MetricSample* s = out->add_samples();
    for (size_t i = 0; i < values.size(); ++i) {
      rpc::MetricLabel* l = s->add_labels();
      l->set_name(d_.tag_keys[i]);
      l->set_value(values[i]);
    }
    series.ToProto(s);
  }
}

Registry& Registry::Default() {
  static Registry* r = new Registry();
  return *r;
}

absl::StatusOr<Metric*> Registry::Define(MetricDescriptor d) {
  if (!IsValidMetricName(d.name)) {
    return absl::InvalidArgumentError(
        fmt::format("invalid metric name '{}': names are letters, digits, '_' and ':', "
                    "and do not start with a digit",
                    d.name));
  }
  for (const auto& k : d.tag_keys) {
    if (!IsValidLabelName(k)) {
      return absl::InvalidArgumentError(fmt::format(
          "metric '{}': invalid tag key '{}' (letters, digits and '_', not starting with a "
          "digit or '__')",
          d.name, k));
    }
    if (k == "le" && d.type == MetricType::kHistogram) {
      return absl::InvalidArgumentError(
          fmt::format("histogram '{}': the tag key 'le' is reserved for buckets", d.name));
    }
  }
  if (d.type == MetricType::kHistogram) {
    if (d.boundaries.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("histogram '{}' needs at least one bucket boundary", d.name));
    }
    for (size_t i = 1; i < d.boundaries.size(); ++i) {
      if (!(d.boundaries[i] > d.boundaries[i - 1])) {
        return absl::InvalidArgumentError(
            fmt::format("histogram '{}': boundaries must increase, got [{}]", d.name,
                        absl::StrJoin(d.boundaries, ", ")));
      }
    }
  } else {
    d.boundaries.clear();
  }
  absl::MutexLock lock(&mu_);
  auto it = metrics_.find(d.name);
  if (it != metrics_.end()) {
    const MetricDescriptor& old = it->second->descriptor();
    if (old.type != d.type) {
      return absl::InvalidArgumentError(
          fmt::format("metric '{}' is already defined as a {}, not a {}", d.name,
                      TypeName(old.type), TypeName(d.type)));
    }
    if (old.tag_keys != d.tag_keys) {
      return absl::InvalidArgumentError(
          fmt::format("metric '{}' is already defined with tag keys ({}), not ({})", d.name,
                      absl::StrJoin(old.tag_keys, ", "), absl::StrJoin(d.tag_keys, ", ")));
    }
    if (old.boundaries != d.boundaries) {
      return absl::InvalidArgumentError(
          fmt::format("histogram '{}' is already defined with boundaries [{}]", d.name,
                      absl::StrJoin(old.boundaries, ", ")));
    }
    return it->second.get();
  }
  std::string name = d.name;
  auto metric = std::make_unique<Metric>(std::move(d));
  Metric* out = metric.get();
  metrics_.emplace(std::move(name), std::move(metric));
  return out;
}

Metric* Registry::DefineOrDie(MetricDescriptor d) {
  auto m = Define(std::move(d));
  PHOTON_CHECK_OK(m.status());
  return *m;
}

int Registry::AddCollector(Collector c) {
  absl::MutexLock lock(&collectors_mu_);
  int id = next_collector_++;
  collectors_.emplace_back(id, std::move(c));
  return id;
}

void Registry::RemoveCollector(int id) {
  absl::MutexLock lock(&collectors_mu_);
  std::erase_if(collectors_, [id](const auto& e) { return e.first == id; });
}

std::vector<rpc::MetricFamily> Registry::Collect() {
  std::vector<rpc::MetricFamily> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, m] : metrics_) {
      rpc::MetricFamily f;
      m->ToProto(&f);
      if (f.samples_size() > 0) out.push_back(std::move(f));
    }
  }
  absl::ReaderMutexLock lock(&collectors_mu_);
  for (const auto& [id, c] : collectors_) c(&out);
  return out;
}

ScopedCollector& ScopedCollector::operator=(ScopedCollector&& o) noexcept {
  if (this != &o) {
    Reset();
    registry_ = o.registry_;
    id_ = o.id_;
    o.registry_ = nullptr;
    o.id_ = 0;
  }
  return *this;
}

void ScopedCollector::Reset() {
  if (registry_ != nullptr) registry_->RemoveCollector(id_);
  registry_ = nullptr;
  id_ = 0;
}

FamilyBuilder::FamilyBuilder(std::vector<rpc::MetricFamily>* out, std::string name,
                             std::string help, MetricType type)
    : out_(out), index_(out->size()) {
  rpc::MetricFamily& f = out->emplace_back();
  f.set_name(std::move(name));
  f.set_help(std::move(help));
  f.set_type(ToProtoType(type));
}

FamilyBuilder& FamilyBuilder::Add(const std::vector<std::pair<std::string, std::string>>& labels,
                                  double value) {
  rpc::MetricSample* s = (*out_)[index_].add_samples();
  for (const auto& [k, v] : labels) {
    rpc::MetricLabel* l = s->add_labels();
    l->set_name(k);
    l->set_value(v);
  }
  s->set_value(value);
  return *this;
}

}  // namespace photon::stats
