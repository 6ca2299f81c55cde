// CloudWatch Embedded Metric Format (EMF) documents, one JSON object per stdout line, which CloudWatch
// Logs turns into metrics (source: AWS doc "Specification: Embedded metric format",
// CloudWatch_Embedded_Metric_Format_Specification.html):
//   {"_aws":{"Timestamp":<epoch ms>,"CloudWatchMetrics":[{"Namespace":"chromapact",
//            "Dimensions":[["Function","Collection"]],
//            "Metrics":[{"Name":"CompactionDuration","Unit":"Milliseconds"}]}]},
//    "Function":"compactor","Collection":"docs","CompactionDuration":1234.5}
// Spec rules kept here: every dimension and metric named in the directive is a root member; dimension
// values are strings; a metric value is a number or an array of at most 100 numbers; at most 100
// metrics per directive and 30 keys per dimension set; the document is a single JSON object.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/status.h"

namespace chromapact::runtime {

// CloudWatch StandardUnit values (API reference "MetricDatum").
enum class MetricUnit {
  kNone,
  kCount,
  kMicroseconds,
  kMilliseconds,
  kSeconds,
  kBytes,
  kKilobytes,
  kMegabytes,
  kPercent,
  kCountPerSecond,
  kBytesPerSecond,
};

// The exact CloudWatch spelling, e.g. "Milliseconds", "Count/Second".
const char* MetricUnitName(MetricUnit unit);

struct MetricSpec {
  const char* name;
  MetricUnit unit;
};

// chromapact's metrics (the alarms in infra/ refer to these names).
inline constexpr MetricSpec kCompactionDuration{"CompactionDuration", MetricUnit::kMilliseconds};
inline constexpr MetricSpec kDeltasProcessed{"DeltasProcessed", MetricUnit::kCount};
inline constexpr MetricSpec kLockAcquisitionFailed{"LockAcquisitionFailed", MetricUnit::kCount};
inline constexpr MetricSpec kBytesUploaded{"BytesUploaded", MetricUnit::kBytes};
inline constexpr MetricSpec kQueryLatency{"QueryLatency", MetricUnit::kMilliseconds};

inline constexpr char kDefaultMetricNamespace[] = "chromapact";
inline constexpr size_t kMaxMetricsPerDirective = 100;  // EMF spec, MetricDirective.Metrics
inline constexpr size_t kMaxValuesPerMetric = 100;      // EMF spec, target member value arrays
inline constexpr size_t kMaxDimensions = 30;            // EMF spec, DimensionSet

// Collects metric values for one EMF document. Not thread-safe; use one per invocation or guard it.
class MetricsLogger {
 public:
  // `metric_namespace` is the CloudWatch namespace (1-255 chars; an empty one becomes
  // kDefaultMetricNamespace).
  explicit MetricsLogger(std::string metric_namespace = kDefaultMetricNamespace);

  // Adds (or replaces the value of) a dimension in the document's single dimension set.
  // Errors: kInvalidArgument for an empty name, or a name already used by a metric or "_aws";
  // kResourceExhausted past kMaxDimensions.
  Status SetDimension(const std::string& name, const std::string& value);

  // Records one value. Putting the same name again appends (the document carries an array).
  // Errors: kInvalidArgument for an empty name, a name used by a dimension or property, a
  // non-finite value, or a unit different from the metric's first one; kResourceExhausted past
  // kMaxMetricsPerDirective metrics or kMaxValuesPerMetric values of one metric.
  Status Put(const std::string& name, double value, MetricUnit unit);
  Status Put(const MetricSpec& spec, double value) { return Put(spec.name, value, spec.unit); }

  // A root member that is not a metric (e.g. "collection", a version number), for log searches.
  // Errors: kInvalidArgument when the key is empty, "_aws", or used by a dimension or metric.
  Status SetProperty(const std::string& key, nlohmann::json value);

  bool empty() const { return metrics_.empty(); }

  // The EMF document as one line of JSON (no trailing newline), Timestamp = timestamp_ms (Unix
  // epoch ms). Members: properties, dimensions, metric values, "_aws".
  std::string ToJson(int64_t timestamp_ms) const;

  // Writes ToJson(now) plus '\n' to stdout in a single write, flushes, and clears the metric values
  // (dimensions and properties stay). When a request id is set for logging (runtime/logging.h) and
  // no "request_id" property exists, the line carries it as "request_id". No-op when empty().
  void Flush();

 private:
  struct Metric {
    std::string name;
    MetricUnit unit;
    std::vector<double> values;
  };
  bool NameTaken(const std::string& name) const;

  std::string namespace_;
  std::vector<std::pair<std::string, std::string>> dimensions_;  // in insertion order
  std::vector<Metric> metrics_;                                   // in first-Put order
  std::map<std::string, nlohmann::json> properties_;
};

}  // namespace chromapact::runtime
