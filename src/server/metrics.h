// A small Prometheus registry: counters, gauges and histograms with fixed
// buckets, each a family of children keyed by label values, rendered in the
// text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Thread-safety: every method of every class here may be called from any
// thread at any time. Child lookup takes the family's mutex; updates of a
// child are lock-free atomics, so a caller that keeps the child pointer
// (children live as long as their registry) updates without locking.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sagaflow::server {

// Appends families to an exposition text: one "# HELP" and "# TYPE" line,
// then its samples. Used by the registry and by collectors that expose
// values owned elsewhere (pipeline counters, consumer lag).
class MetricsText {
 public:
  explicit MetricsText(std::string* out) : out_(out) {}
  // type: "counter", "gauge", "histogram" (or "untyped").
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // name{l1="v1",...} value. Label values are escaped; labels may be empty.
  void Sample(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value);
  void Sample(std::string_view name, const std::vector<std::string>& label_names,
              const std::vector<std::string>& label_values, double value,
              std::pair<std::string_view, std::string_view> extra = {});

 private:
  void Value(double v);
  std::string* out_;
};

class Counter {
 public:
  void Increment(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Add(int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implicit).
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v) noexcept;
  // Cumulative counts per bound (+Inf last), the sum and the count.
  struct Snapshot {
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// A family: name, help, label names, and one child per distinct label values.
template <typename Child>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~Family() = default;
  // The child for these label values (as many as label names), created on
  // first use. The pointer stays valid for the family's lifetime.
  Child* With(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls f(values, child) for each child, in label order, under the lock.
  template <typename F>
  void ForEach(F f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, child] : children_) f(values, *child);
  }

 protected:
  virtual std::unique_ptr<Child> Make() {
    if constexpr (std::is_default_constructible_v<Child>) {
      return std::make_unique<Child>();
    } else {
      return nullptr;  // overridden
    }
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

class HistogramFamily final : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds)
      : Family(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {}
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  std::unique_ptr<Histogram> Make() override { return std::make_unique<Histogram>(&bounds_); }

 private:
  std::vector<double> bounds_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;

// Latency buckets in seconds, 100 us .. 10 s.
const std::vector<double>& DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  // Families are created once (typically at start-up); the returned
  // pointers live as long as the registry. Names must be unique.
  CounterFamily* AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily* AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily* AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                std::vector<double> bounds = DefaultLatencyBuckets());

  // A collector appends families whose values live elsewhere (pipeline
  // counters, Kafka consumer lag, ...) at every scrape. It is called from
  // the scraping thread and must be thread-safe itself.
  using Collector = std::function<void(MetricsText&)>;
  void AddCollector(Collector collector);

  // The whole exposition: registered families in registration order, then
  // the collectors' output.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::pair<char, size_t>> order_;  // ('c'|'g'|'h', index)
  std::vector<Collector> collectors_;
};

// Content-Type of the exposition.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sagaflow::server
