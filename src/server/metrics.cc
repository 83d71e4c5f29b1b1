#include "server/metrics.h"

#include <fmt/format.h>

#include <cmath>

namespace sagaflow::server {

namespace {

void AppendLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendHelp(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::string Bound(double b) {
  if (std::isinf(b)) return "+Inf";
  return fmt::format("{}", b);
}

}  // namespace

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_->append("# HELP ").append(name).push_back(' ');
  AppendHelp(out_, help);
  out_->append("\n# TYPE ").append(name).append(" ").append(type).push_back('\n');
}

void MetricsText::Value(double v) {
  out_->push_back(' ');
  if (std::isnan(v)) {
    out_->append("NaN");
  } else if (std::isinf(v)) {
    out_->append(v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
    out_->append(fmt::format("{}", static_cast<int64_t>(v)));
  } else {
    out_->append(fmt::format("{}", v));
  }
  out_->push_back('\n');
}

void MetricsText::Sample(std::string_view name,
                         std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
  out_->append(name);
  if (labels.size() > 0) {
    out_->push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_->push_back(',');
      first = false;
      out_->append(k).append("=\"");
      AppendLabelValue(out_, v);
      out_->push_back('"');
    }
    out_->push_back('}');
  }
  Value(value);
}

void MetricsText::Sample(std::string_view name, const std::vector<std::string>& label_names,
                         const std::vector<std::string>& label_values, double value,
                         std::pair<std::string_view, std::string_view> extra) {
  out_->append(name);
  if (!label_names.empty() || !extra.first.empty()) {
    out_->push_back('{');
    bool first = true;
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (!first) out_->push_back(',');
      first = false;
      out_->append(label_names[i]).append("=\"");
      AppendLabelValue(out_, label_values[i]);
      out_->push_back('"');
    }
    if (!extra.first.empty()) {
      if (!first) out_->push_back(',');
      out_->append(extra.first).append("=\"");
      AppendLabelValue(out_, extra.second);
      out_->push_back('"');
    }
    out_->push_back('}');
  }
  Value(value);
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) noexcept {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  // The +Inf bucket must equal _count: report the bucket total (a concurrent
  // Observe may have bumped count_ already).
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

template <typename Child>
Child* Family<Child>::With(const std::vector<std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return it->second.get();
  return children_.emplace(values, Make()).first->second.get();
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return kBuckets;
}

CounterFamily* MetricsRegistry::AddCounter(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.push_back(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
  order_.emplace_back('c', counters_.size() - 1);
  return counters_.back().get();
}

GaugeFamily* MetricsRegistry::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.push_back(std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names)));
  order_.emplace_back('g', gauges_.size() - 1);
  return gauges_.back().get();
}

HistogramFamily* MetricsRegistry::AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  histograms_.push_back(
      std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(label_names), std::move(bounds)));
  order_.emplace_back('h', histograms_.size() - 1);
  return histograms_.back().get();
}

void MetricsRegistry::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  MetricsText text(&out);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [kind, index] : order_) {
    if (kind == 'c') {
      const CounterFamily& f = *counters_[index];
      text.Family(f.name(), "counter", f.help());
      f.ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        text.Sample(f.name(), f.label_names(), values, static_cast<double>(c.value()));
      });
    } else if (kind == 'g') {
      const GaugeFamily& f = *gauges_[index];
      text.Family(f.name(), "gauge", f.help());
      f.ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
        text.Sample(f.name(), f.label_names(), values, static_cast<double>(g.value()));
      });
    } else {
      const HistogramFamily& f = *histograms_[index];
      text.Family(f.name(), "histogram", f.help());
      const std::string bucket = f.name() + "_bucket", sum = f.name() + "_sum", count = f.name() + "_count";
      f.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        Histogram::Snapshot s = h.Read();
        for (size_t i = 0; i <= f.bounds().size(); ++i) {
          const double b = i < f.bounds().size() ? f.bounds()[i] : INFINITY;
          text.Sample(bucket, f.label_names(), values, static_cast<double>(s.cumulative[i]), {"le", Bound(b)});
        }
        text.Sample(sum, f.label_names(), values, s.sum);
        text.Sample(count, f.label_names(), values, static_cast<double>(s.count));
      });
    }
  }
  for (const auto& c : collectors_) c(text);
  return out;
}

}  // namespace sagaflow::server
