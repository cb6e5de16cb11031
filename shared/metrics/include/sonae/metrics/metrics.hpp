// A small, thread-safe metrics registry rendered in the Prometheus text exposition format 0.0.4:
// counters, gauges and fixed-bucket histograms with label sets, and families computed at scrape
// time by a callback. Each service owns one Registry and serves it on /metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sonae::metrics {

using LabelValues = std::vector<std::string>;

enum class Type { kCounter, kGauge, kHistogram };
std::string_view to_string(Type t);

// A family's name, help text and label names; every series of it has one value per label name.
struct Desc {
    std::string name;
    std::string help;
    std::vector<std::string> labels;
};

// One sample of a callback family: label values (in the family's label order) and a value.
struct Sample {
    LabelValues labels;
    double value = 0;
};

class Family {
  public:
    explicit Family(Desc desc, Type type);
    virtual ~Family() = default;
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;
    const Desc& desc() const { return desc_; }
    Type type() const { return type_; }
    // Appends the HELP and TYPE lines and every series.
    void render(std::string& out) const;

  protected:
    virtual void render_series(std::string& out) const = 0;
    void check_arity(const LabelValues& values) const;

  private:
    Desc desc_;
    Type type_;
};

// A counter or gauge value, safe to update from any thread.
class Value {
  public:
    void add(double v);
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    double get() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// Counters and gauges: one Value per label set, created on first use and never removed (except by
// Gauge::replace). A returned reference stays valid for the registry's life.
class Scalar : public Family {
  public:
    using Family::Family;
    Value& with(const LabelValues& values = {});
    double value(const LabelValues& values = {}) const;  // 0 for a label set never used

  protected:
    void render_series(std::string& out) const override;
    mutable std::mutex mu_;
    std::map<LabelValues, std::unique_ptr<Value>> series_;
};

class Counter final : public Scalar {
  public:
    explicit Counter(Desc desc) : Scalar(std::move(desc), Type::kCounter) {}
    void inc(const LabelValues& values = {}, double by = 1);  // `by` must not be negative
};

class Gauge final : public Scalar {
  public:
    explicit Gauge(Desc desc) : Scalar(std::move(desc), Type::kGauge) {}
    void set(const LabelValues& values, double v);
    void set(double v) { set({}, v); }
    // Replaces every series at once: for state sampled from elsewhere (open incidents), where a
    // label set that is gone must disappear. Invalidates references returned by with().
    void replace(const std::vector<Sample>& samples);
};

// Elapsed time for a histogram, on the steady clock: a duration measured, not business time.
class Stopwatch {
  public:
    double seconds() const;

  private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class Histogram final : public Family {
  public:
    // `bounds`: upper bounds, strictly increasing; +Inf is implied.
    Histogram(Desc desc, std::vector<double> bounds);
    void observe(const LabelValues& values, double v);
    void observe(double v) { observe({}, v); }
    std::uint64_t count(const LabelValues& values = {}) const;
    double sum(const LabelValues& values = {}) const;

  protected:
    void render_series(std::string& out) const override;

  private:
    struct Series {
        std::vector<std::uint64_t> buckets;  // per bound, not cumulative; last is +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    std::vector<double> bounds_;
    mutable std::mutex mu_;
    std::map<LabelValues, Series> series_;
};

// A counter or gauge family whose samples a function computes at scrape time (the broker
// connection's state, a client's own counters). The function runs on the scraping thread: it must
// not block.
class Callback final : public Family {
  public:
    Callback(Desc desc, Type type, std::function<std::vector<Sample>()> collect);

  protected:
    void render_series(std::string& out) const override;

  private:
    std::function<std::vector<Sample>()> collect_;
};

class Registry {
  public:
    // Each registers a family; a name registered twice, or a name or label name that Prometheus
    // would refuse, throws std::invalid_argument (a programming error).
    Counter& counter(std::string name, std::string help, std::vector<std::string> labels = {});
    Gauge& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
    Histogram& histogram(std::string name, std::string help, std::vector<std::string> labels,
                         std::vector<double> bounds);
    void callback(std::string name, std::string help, Type type, std::vector<std::string> labels,
                  std::function<std::vector<Sample>()> collect);

    // Every family in registration order, in the text format 0.0.4.
    std::string render() const;

  private:
    template <typename F, typename... Args>
    F& add(Desc desc, Args&&... args);

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Family>> families_;
};

// The content type of render()'s output.
inline constexpr const char* kContentType = "text/plain; version=0.0.4";

// Buckets for latencies of local calls, in seconds: 0.5 ms to 10 s.
std::vector<double> latency_buckets();
// Buckets for timer lateness, in seconds: 1 ms to 5 min.
std::vector<double> lateness_buckets();

// The text format's escaping (backslash, double quote in label values, newline).
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// A sample value as Prometheus reads it: shortest round-trip form, +Inf, -Inf, NaN.
std::string format_value(double v);

}  // namespace sonae::metrics
