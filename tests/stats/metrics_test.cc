// The metrics registry and the Prometheus text format.
#include "photon/stats/metrics.h"

#include <gtest/gtest.h>

#include "photon/raylet/metrics_exporter.h"
#include "photon/stats/prometheus_text.h"

namespace photon::stats {
namespace {

const rpc::MetricFamily* Find(const std::vector<rpc::MetricFamily>& fs, const std::string& name) {
  for (const auto& f : fs) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

TEST(MetricsTest, CountersAddGaugesTakeTheLastValue) {
  Registry r;
  Metric* c = r.DefineOrDie({"t_requests", "requests", MetricType::kCounter, {"route"}, {}});
  Metric* g = r.DefineOrDie({"t_depth", "depth", MetricType::kGauge, {}, {}});
  c->Record(1, {"/a"});
  c->Record(2.5, {"/a"});
  c->Record(1, {"/b"});
  g->Record(7);
  g->Record(3);
  auto fs = r.Collect();
  const auto* cf = Find(fs, "t_requests");
  ASSERT_NE(cf, nullptr);
  ASSERT_EQ(cf->samples_size(), 2);
  double a = 0, b = 0;
  for (const auto& s : cf->samples()) (s.labels(0).value() == "/a" ? a : b) = s.value();
  EXPECT_DOUBLE_EQ(a, 3.5);
  EXPECT_DOUBLE_EQ(b, 1);
  EXPECT_EQ(cf->type(), rpc::METRIC_COUNTER);
  EXPECT_DOUBLE_EQ(Find(fs, "t_depth")->samples(0).value(), 3);
}

TEST(MetricsTest, HistogramsCountEachValueInTheFirstBucketThatHoldsIt) {
  Registry r;
  Metric* h = r.DefineOrDie({"t_latency", "", MetricType::kHistogram, {}, {1, 10}});
  for (double v : {0.5, 1.0, 5.0, 10.0, 11.0, 100.0}) h->Record(v);
  auto fs = r.Collect();
  const auto& s = Find(fs, "t_latency")->samples(0);
  ASSERT_EQ(s.bucket_counts_size(), 3);
  EXPECT_EQ(s.bucket_counts(0), 2u);  // <= 1
  EXPECT_EQ(s.bucket_counts(1), 2u);  // (1, 10]
  EXPECT_EQ(s.bucket_counts(2), 2u);  // +Inf
  EXPECT_EQ(s.count(), 6u);
  EXPECT_DOUBLE_EQ(s.sum(), 127.5);
}

TEST(MetricsTest, DefiningAgainAlikeGivesTheSameMetricAndOtherwiseSaysWhatDiffers) {
  Registry r;
  Metric* a = r.DefineOrDie({"t_x", "", MetricType::kCounter, {"k"}, {}});
  auto again = r.Define({"t_x", "other help", MetricType::kCounter, {"k"}, {}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, a);
  auto other_type = r.Define({"t_x", "", MetricType::kGauge, {"k"}, {}});
  EXPECT_TRUE(absl::IsInvalidArgument(other_type.status()));
  EXPECT_NE(other_type.status().message().find("already defined as a counter"), std::string::npos);
  auto other_keys = r.Define({"t_x", "", MetricType::kCounter, {"j"}, {}});
  EXPECT_NE(other_keys.status().message().find("tag keys (k)"), std::string::npos);
}

TEST(MetricsTest, BadDefinitionsAreRefusedWithTheReason) {
  Registry r;
  EXPECT_NE(r.Define({"1abc", "", MetricType::kGauge, {}, {}}).status().message().find("1abc"),
            std::string::npos);
  EXPECT_NE(
      r.Define({"t_y", "", MetricType::kGauge, {"bad-key"}, {}}).status().message().find("bad-key"),
      std::string::npos);
  EXPECT_FALSE(r.Define({"t_h", "", MetricType::kHistogram, {}, {}}).ok());
  EXPECT_NE(r.Define({"t_h", "", MetricType::kHistogram, {}, {5, 1}})
                .status()
                .message()
                .find("must increase"),
            std::string::npos);
  EXPECT_FALSE(r.Define({"t_h", "", MetricType::kHistogram, {"le"}, {1}}).ok());
}

TEST(MetricsTest, CollectorsAddTheirFamiliesUntilRemoved) {
  Registry r;
  {
    ScopedCollector c(&r, [](std::vector<rpc::MetricFamily>* out) {
      FamilyBuilder(out, "t_alive", "alive").Add({{"State", "ALIVE"}}, 2).Add({}, 1);
    });
    auto fs = r.Collect();
    ASSERT_NE(Find(fs, "t_alive"), nullptr);
    EXPECT_EQ(Find(fs, "t_alive")->samples_size(), 2);
  }
  EXPECT_EQ(Find(r.Collect(), "t_alive"), nullptr);
}

TEST(PrometheusTextTest, RendersTypesLabelsAndSourcesInTheExpositionFormat) {
  Registry r;
  r.DefineOrDie({"t_calls", "Calls made", MetricType::kCounter, {"Method"}, {}})
      ->Record(3, {"Push"});
  r.DefineOrDie({"t_ms", "Time", MetricType::kHistogram, {}, {1, 5}})->Record(2);
  SourceFamilies worker{{{"Component", "core_worker"}}, r.Collect()};
  std::vector<rpc::MetricFamily> gcs_families;
  FamilyBuilder(&gcs_families, "t_calls", "ignored: the first help wins", MetricType::kCounter)
      .Add({{"Method", "Get"}}, 1);
  FamilyBuilder(&gcs_families, "t_ms", "another type is left out").Add({}, 1);
  SourceFamilies gcs{{{"Component", "gcs_server"}}, gcs_families};
  std::string text = RenderPrometheusText({worker, gcs});
  EXPECT_NE(text.find("# HELP t_calls_total Calls made\n# TYPE t_calls_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("t_calls_total{Component=\"core_worker\",Method=\"Push\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("t_calls_total{Component=\"gcs_server\",Method=\"Get\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE t_ms histogram\n"), std::string::npos);
  EXPECT_NE(text.find("t_ms_bucket{Component=\"core_worker\",le=\"1.0\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("t_ms_bucket{Component=\"core_worker\",le=\"5.0\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_ms_bucket{Component=\"core_worker\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_ms_sum{Component=\"core_worker\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_ms_count{Component=\"core_worker\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("gcs_server\"} 1\nt_ms"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE t_calls_total counter", text.find("t_calls_total{") + 1),
            std::string::npos);  // one block per name
}

TEST(PrometheusTextTest, EscapesLabelValuesAndWritesSpecialValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatBucketBound(3), "3.0");
  EXPECT_EQ(FormatBucketBound(0.5), "0.5");
}

TEST(NodeSystemMetricsTest, ParsesTheCpuLineOfProcStat) {
  uint64_t busy = 0, total = 0;
  ASSERT_TRUE(raylet::ParseProcStatCpu("cpu  100 0 50 800 50 0 0 0 0 0", &busy, &total));
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(busy, 150u);
  EXPECT_FALSE(raylet::ParseProcStatCpu("intr 1 2 3", &busy, &total));
}

}  // namespace
}  // namespace photon::stats
