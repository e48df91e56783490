#include "photon/stats/prometheus_text.h"

#include <cmath>
#include <map>

#include "fmt/format.h"

namespace photon::stats {

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeWord(rpc::MetricType t) {
  switch (t) {
    case rpc::METRIC_COUNTER:
      return "counter";
    case rpc::METRIC_HISTOGRAM:
      return "histogram";
    default:
      return "gauge";
  }
}

// `{a="x",b="y"}` of a sample's labels over its source's, plus `extra` last.
void AppendLabels(std::string* out, const Labels& source, const rpc::MetricSample& s,
                  const std::pair<std::string, std::string>* extra) {
  std::map<std::string, std::string> merged(source.begin(), source.end());
  for (const auto& l : s.labels()) merged[l.name()] = l.value();
  if (merged.empty() && extra == nullptr) return;
  out->push_back('{');
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out->push_back(',');
    first = false;
    *out += k;
    *out += "=\"";
    *out += EscapeLabelValue(v);
    out->push_back('"');
  };
  for (const auto& [k, v] : merged) add(k, v);
  if (extra != nullptr) add(extra->first, extra->second);
  out->push_back('}');
}

void AppendSample(std::string* out, const std::string& name, const Labels& source,
                  const rpc::MetricSample& s, double value,
                  const std::pair<std::string, std::string>* extra = nullptr) {
  *out += name;
  AppendLabels(out, source, s, extra);
  out->push_back(' ');
  *out += FormatSampleValue(value);
  out->push_back('\n');
}

}  // namespace

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string FormatBucketBound(double v) {
  std::string s = FormatSampleValue(v);
  // As Prometheus's own clients write them: 1 is "1.0".
  if (s.find_first_of(".eEIN") == std::string::npos) s += ".0";
  return s;
}

std::string RenderPrometheusText(absl::Span<const SourceFamilies> sources) {
  struct Entry {
    const rpc::MetricFamily* family;
    const Labels* labels;
  };
  // By name, in first-seen order of names; the first family fixes the type.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Entry>> by_name;
  for (const auto& src : sources) {
    for (const auto& f : src.families) {
      auto [it, inserted] = by_name.try_emplace(f.name());
      if (inserted) order.push_back(f.name());
      if (!it->second.empty() && it->second.front().family->type() != f.type()) continue;
      it->second.push_back({&f, &src.labels});
    }
  }
  std::string out;
  for (const auto& name : order) {
    const auto& entries = by_name[name];
    const rpc::MetricFamily& head = *entries.front().family;
    const bool counter = head.type() == rpc::METRIC_COUNTER;
    const std::string exported = counter ? name + "_total" : name;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", exported, EscapeHelp(head.help()), exported,
                       TypeWord(head.type()));
    for (const auto& e : entries) {
      for (const auto& s : e.family->samples()) {
        if (head.type() != rpc::METRIC_HISTOGRAM) {
          AppendSample(&out, exported, *e.labels, s, s.value());
          continue;
        }
        uint64_t cumulative = 0;
        const auto& bounds = e.family->boundaries();
        for (int i = 0; i < s.bucket_counts_size(); ++i) {
          cumulative += s.bucket_counts(i);
          std::pair<std::string, std::string> le{
              "le", i < bounds.size() ? FormatBucketBound(bounds[i]) : "+Inf"};
          AppendSample(&out, name + "_bucket", *e.labels, s, static_cast<double>(cumulative), &le);
        }
        AppendSample(&out, name + "_sum", *e.labels, s, s.sum());
        AppendSample(&out, name + "_count", *e.labels, s, static_cast<double>(s.count()));
      }
    }
  }
  return out;
}

}  // namespace photon::stats
