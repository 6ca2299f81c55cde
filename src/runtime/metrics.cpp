#include "chromapact/runtime/metrics.h"

#include <cmath>
#include <cstdio>

#include "chromapact/runtime/context.h"
#include "chromapact/runtime/logging.h"

namespace chromapact::runtime {

const char* MetricUnitName(MetricUnit unit) {
  switch (unit) {
    case MetricUnit::kNone: return "None";
    case MetricUnit::kCount: return "Count";
    case MetricUnit::kMicroseconds: return "Microseconds";
    case MetricUnit::kMilliseconds: return "Milliseconds";
    case MetricUnit::kSeconds: return "Seconds";
    case MetricUnit::kBytes: return "Bytes";
    case MetricUnit::kKilobytes: return "Kilobytes";
    case MetricUnit::kMegabytes: return "Megabytes";
    case MetricUnit::kPercent: return "Percent";
    case MetricUnit::kCountPerSecond: return "Count/Second";
    case MetricUnit::kBytesPerSecond: return "Bytes/Second";
  }
  return "None";
}

MetricsLogger::MetricsLogger(std::string metric_namespace)
    : namespace_(metric_namespace.empty() ? kDefaultMetricNamespace : std::move(metric_namespace)) {}

bool MetricsLogger::NameTaken(const std::string& name) const {
  if (name == "_aws") return true;
  for (const auto& d : dimensions_) {
    if (d.first == name) return true;
  }
  for (const auto& m : metrics_) {
    if (m.name == name) return true;
  }
  return properties_.count(name) != 0;
}

Status MetricsLogger::SetDimension(const std::string& name, const std::string& value) {
  if (name.empty()) return InvalidArgument("metrics: dimension name is empty");
  for (auto& d : dimensions_) {
    if (d.first == name) {
      d.second = value;
      return Status::Ok();
    }
  }
  if (NameTaken(name)) return InvalidArgument("metrics: dimension \"" + name + "\" collides with another member");
  if (dimensions_.size() >= kMaxDimensions) {
    return ResourceExhausted("metrics: more than 30 dimensions (EMF DimensionSet limit)");
  }
  dimensions_.emplace_back(name, value);
  return Status::Ok();
}

Status MetricsLogger::Put(const std::string& name, double value, MetricUnit unit) {
  if (name.empty()) return InvalidArgument("metrics: metric name is empty");
  if (!std::isfinite(value)) return InvalidArgument("metrics: value of \"" + name + "\" is not finite");
  for (auto& m : metrics_) {
    if (m.name != name) continue;
    if (m.unit != unit) {
      return InvalidArgument("metrics: \"" + name + "\" was " + MetricUnitName(m.unit) + ", now " +
                             MetricUnitName(unit));
    }
    if (m.values.size() >= kMaxValuesPerMetric) {
      return ResourceExhausted("metrics: more than 100 values of \"" + name + "\" (EMF limit); Flush first");
    }
    m.values.push_back(value);
    return Status::Ok();
  }
  if (NameTaken(name)) return InvalidArgument("metrics: metric \"" + name + "\" collides with another member");
  if (metrics_.size() >= kMaxMetricsPerDirective) {
    return ResourceExhausted("metrics: more than 100 metrics in one document (EMF limit); Flush first");
  }
  metrics_.push_back(Metric{name, unit, {value}});
  return Status::Ok();
}

Status MetricsLogger::SetProperty(const std::string& key, nlohmann::json value) {
  if (key.empty()) return InvalidArgument("metrics: property key is empty");
  if (properties_.count(key) == 0 && NameTaken(key)) {
    return InvalidArgument("metrics: property \"" + key + "\" collides with another member");
  }
  properties_[key] = std::move(value);
  return Status::Ok();
}

std::string MetricsLogger::ToJson(int64_t timestamp_ms) const {
  nlohmann::ordered_json doc;
  for (const auto& [k, v] : properties_) doc[k] = v;
  nlohmann::ordered_json dimension_set = nlohmann::ordered_json::array();
  for (const auto& [name, value] : dimensions_) {
    doc[name] = value;
    dimension_set.push_back(name);
  }
  nlohmann::ordered_json definitions = nlohmann::ordered_json::array();
  for (const auto& m : metrics_) {
    if (m.values.size() == 1) {
      doc[m.name] = m.values[0];
    } else {
      doc[m.name] = m.values;
    }
    definitions.push_back({{"Name", m.name}, {"Unit", MetricUnitName(m.unit)}});
  }
  nlohmann::ordered_json directive;
  directive["Namespace"] = namespace_;
  // An empty DimensionSet publishes the metric without dimensions (EMF spec, Dimensions).
  directive["Dimensions"] = nlohmann::ordered_json::array({dimension_set});
  directive["Metrics"] = definitions;
  doc["_aws"] = {{"Timestamp", timestamp_ms}, {"CloudWatchMetrics", nlohmann::ordered_json::array({directive})}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void MetricsLogger::Flush() {
  if (metrics_.empty()) return;
  std::string line;
  const std::string request_id = LogRequestId();
  if (!request_id.empty() && properties_.count("request_id") == 0 && !NameTaken("request_id")) {
    MetricsLogger copy = *this;
    copy.properties_["request_id"] = request_id;
    line = copy.ToJson(NowUnixMs());
  } else {
    line = ToJson(NowUnixMs());
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  metrics_.clear();
}

}  // namespace chromapact::runtime
