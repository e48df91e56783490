// The Prometheus text exposition format (version 0.0.4) of metric families
// gathered from several processes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "photon/protocol/metrics.pb.h"

namespace photon::stats {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The families of one process, and the labels that say which it is
// (Component, WorkerId, ...), added to each of its samples.
struct SourceFamilies {
  Labels labels;
  std::vector<rpc::MetricFamily> families;
};

// One block per metric name: families of the same name from several sources
// are merged under the first one's HELP and TYPE (a later one of another
// type is left out, since one name cannot have two types). A sample's own
// label wins over a source label of the same name. Counters are written with
// the _total suffix, histograms as cumulative _bucket{le=...}, _sum, _count.
std::string RenderPrometheusText(absl::Span<const SourceFamilies> sources);

// A label value or HELP text escaped as the format asks.
std::string EscapeLabelValue(std::string_view v);
// A sample value: shortest round-trip decimal, +Inf, -Inf or NaN.
std::string FormatSampleValue(double v);
// A histogram bucket's le: the same, with ".0" on whole numbers ("1.0"), as
// Prometheus's client libraries write it.
std::string FormatBucketBound(double v);

}  // namespace photon::stats
