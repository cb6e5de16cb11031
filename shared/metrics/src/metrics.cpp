#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include <sonae/metrics/metrics.hpp>

namespace sonae::metrics {
namespace {

bool name_char(char c, bool first, bool colon) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view n, bool colon) {
    if (n.empty())
        return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        if (!name_char(n[i], i == 0, colon))
            return false;
    }
    return true;
}

void render_labels(std::string& out, const std::vector<std::string>& names,
                   const LabelValues& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty())
        return;
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!first)
            out += ',';
        first = false;
        out += names[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!first)
            out += ',';
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
}

void render_sample(std::string& out, std::string_view name, const std::vector<std::string>& labels,
                   const LabelValues& values, double v) {
    out += name;
    render_labels(out, labels, values);
    out += ' ';
    out += format_value(v);
    out += '\n';
}

}  // namespace

double Stopwatch::seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string_view to_string(Type t) {
    switch (t) {
        case Type::kCounter:
            return "counter";
        case Type::kGauge:
            return "gauge";
        case Type::kHistogram:
            return "histogram";
    }
    return "untyped";
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc{} ? end : buf);
}

std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> lateness_buckets() {
    return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}

Family::Family(Desc desc, Type type) : desc_(std::move(desc)), type_(type) {
    if (!valid_name(desc_.name, true))
        throw std::invalid_argument("metric name '" + desc_.name + "' is not valid");
    std::set<std::string> seen;
    for (const auto& l : desc_.labels) {
        if (!valid_name(l, false) || l.rfind("__", 0) == 0)
            throw std::invalid_argument(desc_.name + ": label name '" + l + "' is not valid");
        if (type_ == Type::kHistogram && l == "le")
            throw std::invalid_argument(desc_.name + ": 'le' is reserved for histogram buckets");
        if (!seen.insert(l).second)
            throw std::invalid_argument(desc_.name + ": label '" + l + "' given twice");
    }
}

void Family::check_arity(const LabelValues& values) const {
    if (values.size() != desc_.labels.size()) {
        throw std::invalid_argument(desc_.name + " takes " + std::to_string(desc_.labels.size()) +
                                    " label values, got " + std::to_string(values.size()));
    }
}

void Family::render(std::string& out) const {
    out += "# HELP " + desc_.name + " " + escape_help(desc_.help) + "\n";
    out += "# TYPE " + desc_.name + " ";
    out += to_string(type_);
    out += '\n';
    render_series(out);
}

void Value::add(double v) {
    value_.fetch_add(v, std::memory_order_relaxed);
}

Value& Scalar::with(const LabelValues& values) {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto& slot = series_[values];
    if (!slot)
        slot = std::make_unique<Value>();
    return *slot;
}

double Scalar::value(const LabelValues& values) const {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    return it == series_.end() ? 0 : it->second->get();
}

void Scalar::render_series(std::string& out) const {
    std::lock_guard lock(mu_);
    // A family without labels always shows its one series, so that it exists from the start.
    if (desc().labels.empty() && series_.empty())
        render_sample(out, desc().name, {}, {}, 0);
    for (const auto& [values, v] : series_)
        render_sample(out, desc().name, desc().labels, values, v->get());
}

void Counter::inc(const LabelValues& values, double by) {
    if (by < 0 || std::isnan(by))
        throw std::invalid_argument(desc().name + ": a counter only goes up");
    with(values).add(by);
}

void Gauge::set(const LabelValues& values, double v) {
    check_arity(values);
    std::lock_guard lock(mu_);  // under the lock: replace() may drop the series meanwhile
    auto& slot = series_[values];
    if (!slot)
        slot = std::make_unique<Value>();
    slot->set(v);
}

void Gauge::replace(const std::vector<Sample>& samples) {
    for (const auto& s : samples)
        check_arity(s.labels);
    std::map<LabelValues, std::unique_ptr<Value>> fresh;
    for (const auto& s : samples) {
        auto& slot = fresh[s.labels];
        if (!slot)
            slot = std::make_unique<Value>();
        slot->set(s.value);
    }
    std::lock_guard lock(mu_);
    series_.swap(fresh);
}

Histogram::Histogram(Desc desc, std::vector<double> bounds)
    : Family(std::move(desc), Type::kHistogram), bounds_(std::move(bounds)) {
    if (bounds_.empty() || !std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end() ||
        !std::isfinite(bounds_.back())) {
        throw std::invalid_argument(this->desc().name +
                                    ": bucket bounds must be finite and strictly increasing");
    }
}

void Histogram::observe(const LabelValues& values, double v) {
    check_arity(values);
    if (std::isnan(v))
        return;
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    std::lock_guard lock(mu_);
    Series& s = series_[values];
    if (s.buckets.empty())
        s.buckets.assign(bounds_.size() + 1, 0);
    ++s.buckets[bucket];
    s.sum += v;
    ++s.count;
}

std::uint64_t Histogram::count(const LabelValues& values) const {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    return it == series_.end() ? 0 : it->second.count;
}

double Histogram::sum(const LabelValues& values) const {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    return it == series_.end() ? 0 : it->second.sum;
}

void Histogram::render_series(std::string& out) const {
    std::lock_guard lock(mu_);
    auto one = [&](const LabelValues& values, const Series* s) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds_.size(); ++i) {
            cumulative += s ? s->buckets[i] : 0;
            out += desc().name + "_bucket";
            render_labels(out, desc().labels, values, "le",
                          i < bounds_.size() ? format_value(bounds_[i]) : "+Inf");
            out += ' ' + std::to_string(cumulative) + '\n';
        }
        render_sample(out, desc().name + "_sum", desc().labels, values, s ? s->sum : 0);
        render_sample(out, desc().name + "_count", desc().labels, values,
                      static_cast<double>(s ? s->count : 0));
    };
    if (desc().labels.empty() && series_.empty())
        one({}, nullptr);
    for (const auto& [values, s] : series_)
        one(values, &s);
}

Callback::Callback(Desc desc, Type type, std::function<std::vector<Sample>()> collect)
    : Family(std::move(desc), type), collect_(std::move(collect)) {
    if (type == Type::kHistogram)
        throw std::invalid_argument(this->desc().name + ": a callback is a counter or a gauge");
}

void Callback::render_series(std::string& out) const {
    std::vector<Sample> samples;
    try {
        samples = collect_();
    } catch (const std::exception&) {
        return;  // a source that cannot answer now shows no series rather than failing the page
    }
    for (const auto& s : samples) {
        check_arity(s.labels);
        render_sample(out, desc().name, desc().labels, s.labels, s.value);
    }
}

template <typename F, typename... Args>
F& Registry::add(Desc desc, Args&&... args) {
    auto family = std::make_unique<F>(std::move(desc), std::forward<Args>(args)...);
    F& ref = *family;
    std::lock_guard lock(mu_);
    for (const auto& f : families_) {
        if (f->desc().name == ref.desc().name)
            throw std::invalid_argument("metric " + ref.desc().name + " registered twice");
    }
    families_.push_back(std::move(family));
    return ref;
}

Counter& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
    return add<Counter>(Desc{std::move(name), std::move(help), std::move(labels)});
}

Gauge& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
    return add<Gauge>(Desc{std::move(name), std::move(help), std::move(labels)});
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds) {
    return add<Histogram>(Desc{std::move(name), std::move(help), std::move(labels)},
                          std::move(bounds));
}

void Registry::callback(std::string name, std::string help, Type type,
                        std::vector<std::string> labels,
                        std::function<std::vector<Sample>()> collect) {
    add<Callback>(Desc{std::move(name), std::move(help), std::move(labels)}, type,
                  std::move(collect));
}

std::string Registry::render() const {
    std::string out;
    std::lock_guard lock(mu_);
    for (const auto& f : families_)
        f->render(out);
    return out;
}

}  // namespace sonae::metrics
