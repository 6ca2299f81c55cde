// CloudWatch Embedded Metric Format documents (runtime/metrics.h), checked against the rules of the
// AWS doc "Specification: Embedded metric format": a root "_aws" object with Timestamp (epoch ms) and
// CloudWatchMetrics [{Namespace, Dimensions: [[names]], Metrics: [{Name, Unit}]}]; every referenced
// dimension and metric is a root member; dimension values are strings; metric values are numbers or
// arrays of at most 100 numbers; at most 100 metrics per directive and 30 dimensions per set.
#include "chromapact/runtime/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "chromapact/runtime/context.h"
#include "chromapact/runtime/logging.h"

namespace chromapact::runtime {
namespace {

using nlohmann::json;

// Checks the EMF spec's structural rules on one document; returns "" when it conforms.
std::string EmfViolation(const json& doc) {
  if (!doc.is_object()) return "not an object";
  if (!doc.contains("_aws") || !doc["_aws"].is_object()) return "no _aws object";
  const json& aws = doc["_aws"];
  if (!aws.contains("Timestamp") || !aws["Timestamp"].is_number_integer()) return "Timestamp not an integer";
  if (!aws.contains("CloudWatchMetrics") || !aws["CloudWatchMetrics"].is_array()) return "no CloudWatchMetrics";
  for (const json& d : aws["CloudWatchMetrics"]) {
    if (!d["Namespace"].is_string() || d["Namespace"].get<std::string>().empty()) return "bad Namespace";
    if (!d["Dimensions"].is_array()) return "Dimensions not an array";
    for (const json& set : d["Dimensions"]) {
      if (!set.is_array()) return "a DimensionSet is not an array";
      if (set.size() > 30) return "DimensionSet over 30";
      for (const json& name : set) {
        if (!name.is_string()) return "dimension name not a string";
        if (!doc.contains(name.get<std::string>())) return "dimension " + name.get<std::string>() + " not a root member";
        if (!doc[name.get<std::string>()].is_string()) return "dimension value not a string";
      }
    }
    if (!d["Metrics"].is_array() || d["Metrics"].size() > 100) return "Metrics not an array of <= 100";
    for (const json& m : d["Metrics"]) {
      if (!m["Name"].is_string()) return "metric Name not a string";
      const std::string name = m["Name"];
      if (m.contains("Unit") && !m["Unit"].is_string()) return "Unit not a string";
      if (!doc.contains(name)) return "metric " + name + " not a root member";
      const json& v = doc[name];
      if (v.is_array()) {
        if (v.size() > 100) return "more than 100 values";
        for (const json& x : v) {
          if (!x.is_number()) return "non-number value";
        }
      } else if (!v.is_number()) {
        return "metric value not a number";
      }
    }
  }
  return "";
}

TEST(MetricsTest, DocumentHasTheEmfShape) {
  MetricsLogger m;
  ASSERT_TRUE(m.SetDimension("Function", "compactor").ok());
  ASSERT_TRUE(m.SetDimension("Collection", "docs").ok());
  ASSERT_TRUE(m.Put(kCompactionDuration, 1234.5).ok());
  ASSERT_TRUE(m.Put(kDeltasProcessed, 7).ok());
  ASSERT_TRUE(m.Put(kBytesUploaded, 1048576).ok());
  ASSERT_TRUE(m.SetProperty("version", 42).ok());
  const json doc = json::parse(m.ToJson(1700000000123));
  EXPECT_EQ(EmfViolation(doc), "") << doc.dump();

  EXPECT_EQ(doc["_aws"]["Timestamp"], 1700000000123);
  const json& d = doc["_aws"]["CloudWatchMetrics"][0];
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"].size(), 1u);
  EXPECT_EQ(d["Namespace"], "chromapact");
  EXPECT_EQ(d["Dimensions"], json::parse(R"([["Function","Collection"]])"));
  EXPECT_EQ(d["Metrics"], json::parse(R"([{"Name":"CompactionDuration","Unit":"Milliseconds"},
                                          {"Name":"DeltasProcessed","Unit":"Count"},
                                          {"Name":"BytesUploaded","Unit":"Bytes"}])"));
  EXPECT_EQ(doc["Function"], "compactor");
  EXPECT_EQ(doc["Collection"], "docs");
  EXPECT_DOUBLE_EQ(doc["CompactionDuration"].get<double>(), 1234.5);
  EXPECT_EQ(doc["DeltasProcessed"], 7);
  EXPECT_EQ(doc["BytesUploaded"], 1048576);
  EXPECT_EQ(doc["version"], 42);
}

TEST(MetricsTest, ProjectMetricsUseCloudWatchUnits) {
  EXPECT_STREQ(kCompactionDuration.name, "CompactionDuration");
  EXPECT_STREQ(MetricUnitName(kCompactionDuration.unit), "Milliseconds");
  EXPECT_STREQ(kDeltasProcessed.name, "DeltasProcessed");
  EXPECT_STREQ(MetricUnitName(kDeltasProcessed.unit), "Count");
  EXPECT_STREQ(kLockAcquisitionFailed.name, "LockAcquisitionFailed");
  EXPECT_STREQ(MetricUnitName(kLockAcquisitionFailed.unit), "Count");
  EXPECT_STREQ(kBytesUploaded.name, "BytesUploaded");
  EXPECT_STREQ(MetricUnitName(kBytesUploaded.unit), "Bytes");
  EXPECT_STREQ(kQueryLatency.name, "QueryLatency");
  EXPECT_STREQ(MetricUnitName(kQueryLatency.unit), "Milliseconds");
  EXPECT_STREQ(MetricUnitName(MetricUnit::kCountPerSecond), "Count/Second");
  EXPECT_STREQ(MetricUnitName(MetricUnit::kBytesPerSecond), "Bytes/Second");
  EXPECT_STREQ(MetricUnitName(MetricUnit::kNone), "None");
}

TEST(MetricsTest, RepeatedPutsBecomeAnArrayAndNoDimensionsIsAnEmptySet) {
  MetricsLogger m("custom-ns");
  ASSERT_TRUE(m.Put(kQueryLatency, 3).ok());
  ASSERT_TRUE(m.Put(kQueryLatency, 4.25).ok());
  const json doc = json::parse(m.ToJson(5));
  EXPECT_EQ(EmfViolation(doc), "") << doc.dump();
  EXPECT_EQ(doc["QueryLatency"], json::parse("[3.0,4.25]"));
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "custom-ns");
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json::parse("[[]]"));
  EXPECT_EQ(MetricsLogger("").ToJson(0).find("\"Namespace\":\"chromapact\"") != std::string::npos, true);
}

TEST(MetricsTest, RejectsWhatTheSpecForbids) {
  MetricsLogger m;
  ASSERT_TRUE(m.SetDimension("Function", "query").ok());
  ASSERT_TRUE(m.SetDimension("Function", "producer").ok());  // replaces the value
  EXPECT_EQ(m.SetDimension("", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.SetDimension("_aws", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Put("", 1, MetricUnit::kCount).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Put("Function", 1, MetricUnit::kCount).code(), StatusCode::kInvalidArgument);  // a dimension
  EXPECT_EQ(m.Put("_aws", 1, MetricUnit::kCount).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Put("Nan", std::nan(""), MetricUnit::kCount).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Put("Inf", std::numeric_limits<double>::infinity(), MetricUnit::kCount).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(m.Put(kQueryLatency, 1).ok());
  const Status unit = m.Put("QueryLatency", 1, MetricUnit::kSeconds);
  EXPECT_EQ(unit.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unit.message().find("Milliseconds"), std::string::npos);
  EXPECT_EQ(m.SetDimension("QueryLatency", "x").code(), StatusCode::kInvalidArgument);  // a metric
  EXPECT_EQ(m.SetProperty("QueryLatency", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.SetProperty("_aws", 1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(m.SetProperty("note", "a").ok());
  ASSERT_TRUE(m.SetProperty("note", "b").ok());  // replacing a property is fine
  EXPECT_EQ(m.Put("note", 1, MetricUnit::kCount).code(), StatusCode::kInvalidArgument);
  const json doc = json::parse(m.ToJson(1));
  EXPECT_EQ(doc["Function"], "producer");
  EXPECT_EQ(doc["note"], "b");
  EXPECT_EQ(EmfViolation(doc), "");
}

TEST(MetricsTest, LimitsOf100Metrics100ValuesAnd30Dimensions) {
  MetricsLogger m;
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(m.SetDimension("D" + std::to_string(i), "v").ok());
  EXPECT_EQ(m.SetDimension("D30", "v").code(), StatusCode::kResourceExhausted);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(m.Put("M" + std::to_string(i), i, MetricUnit::kCount).ok());
  EXPECT_EQ(m.Put("M100", 1, MetricUnit::kCount).code(), StatusCode::kResourceExhausted);
  for (int i = 1; i < 100; ++i) ASSERT_TRUE(m.Put("M0", i, MetricUnit::kCount).ok());
  EXPECT_EQ(m.Put("M0", 100, MetricUnit::kCount).code(), StatusCode::kResourceExhausted);
  const json doc = json::parse(m.ToJson(1));
  EXPECT_EQ(EmfViolation(doc), "");
  EXPECT_EQ(doc["M0"].size(), 100u);
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Metrics"].size(), 100u);
  EXPECT_EQ(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0].size(), 30u);
}

TEST(MetricsTest, FlushWritesOneLineWithRequestIdAndClearsValues) {
  InitLogging();
  MetricsLogger m;
  ASSERT_TRUE(m.SetDimension("Function", "compactor").ok());
  m.Flush();  // nothing to write yet
  ASSERT_TRUE(m.Put(kLockAcquisitionFailed, 1).ok());
  SetLogRequestId("flush-req");
  ::testing::internal::CaptureStdout();
  const int64_t before = NowUnixMs();
  m.Flush();
  m.Flush();  // values were cleared: no second line
  const int64_t after = NowUnixMs();
  const std::string out = ::testing::internal::GetCapturedStdout();
  SetLogRequestId("");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  const json doc = json::parse(out);
  EXPECT_EQ(EmfViolation(doc), "") << out;
  EXPECT_EQ(doc["LockAcquisitionFailed"], 1);
  EXPECT_EQ(doc["request_id"], "flush-req");
  EXPECT_EQ(doc["Function"], "compactor");  // dimensions stay
  EXPECT_GE(doc["_aws"]["Timestamp"].get<int64_t>(), before);
  EXPECT_LE(doc["_aws"]["Timestamp"].get<int64_t>(), after);
  EXPECT_TRUE(m.empty());
  // The request id was added to the line only, not kept as a property.
  ASSERT_TRUE(m.Put(kDeltasProcessed, 2).ok());
  EXPECT_FALSE(json::parse(m.ToJson(0)).contains("request_id"));
}

}  // namespace
}  // namespace chromapact::runtime
