#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include <sonae/metrics/metrics.hpp>

using namespace sonae;

namespace {

struct ParsedSample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

struct Page {
    std::map<std::string, std::string> help, type;
    std::vector<ParsedSample> samples;
    std::vector<std::string> errors;

    std::vector<ParsedSample> of(const std::string& name) const {
        std::vector<ParsedSample> out;
        for (const auto& s : samples) {
            if (s.name == name)
                out.push_back(s);
        }
        return out;
    }
};

double parse_value(const std::string& t) {
    if (t == "+Inf")
        return INFINITY;
    if (t == "-Inf")
        return -INFINITY;
    if (t == "NaN")
        return NAN;
    std::size_t used = 0;
    const double v = std::stod(t, &used);
    if (used != t.size())
        throw std::invalid_argument("value " + t);
    return v;
}

// The family a sample belongs to: histogram samples carry a suffix.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& type) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
            const std::string base = name.substr(0, name.size() - s.size());
            auto it = type.find(base);
            if (it != type.end() && it->second == "histogram")
                return base;
        }
    }
    return name;
}

// A strict reader of the text format 0.0.4, enough to hold render() to the rules: one HELP and
// one TYPE per family before its samples, a family's samples together, label values escaped,
// histogram buckets cumulative and ending in +Inf equal to _count.
Page parse(const std::string& text) {
    Page p;
    std::istringstream in(text);
    std::string line;
    std::set<std::string> finished;
    std::string current;
    if (!text.empty() && text.back() != '\n')
        p.errors.push_back("the page does not end in a newline");
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
            const bool help = line[2] == 'H';
            const std::string rest = line.substr(7);
            const auto sp = rest.find(' ');
            const std::string name = rest.substr(0, sp);
            auto& map = help ? p.help : p.type;
            if (map.count(name))
                p.errors.push_back("second " + std::string(help ? "HELP" : "TYPE") + " for " +
                                   name);
            map[name] = sp == std::string::npos ? "" : rest.substr(sp + 1);
            if (name != current) {
                if (!current.empty())
                    finished.insert(current);
                if (finished.count(name))
                    p.errors.push_back(name + " appears in two places");
                current = name;
            }
            continue;
        }
        if (line.empty() || line[0] == '#') {
            p.errors.push_back("unexpected line: " + line);
            continue;
        }
        ParsedSample s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ')
            ++i;
        s.name = line.substr(0, i);
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const auto eq = line.find('=', i);
                const std::string key = line.substr(i, eq - i);
                i = eq + 1;
                if (line[i] != '"') {
                    p.errors.push_back("unquoted label value: " + line);
                    break;
                }
                ++i;
                std::string value;
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\') {
                        ++i;
                        const char c = line[i];
                        if (c == 'n')
                            value += '\n';
                        else if (c == '\\' || c == '"')
                            value += c;
                        else
                            p.errors.push_back("bad escape in " + line);
                    } else {
                        value += line[i];
                    }
                    ++i;
                }
                ++i;  // closing quote
                s.labels[key] = value;
                if (line[i] == ',')
                    ++i;
            }
            ++i;  // '}'
        }
        if (i >= line.size() || line[i] != ' ') {
            p.errors.push_back("no value: " + line);
            continue;
        }
        try {
            s.value = parse_value(line.substr(i + 1));
        } catch (const std::exception&) {
            p.errors.push_back("bad value: " + line);
        }
        const std::string family = family_of(s.name, p.type);
        if (family != current)
            p.errors.push_back(s.name + " is not under its own HELP/TYPE");
        if (!p.type.count(family))
            p.errors.push_back(s.name + " has no TYPE");
        p.samples.push_back(std::move(s));
    }
    // Histograms: per label set, buckets cumulative, +Inf last and equal to _count.
    for (const auto& [name, type] : p.type) {
        if (type != "histogram")
            continue;
        std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> sets;
        for (auto s : p.of(name + "_bucket")) {
            const double le = parse_value(s.labels.at("le"));
            s.labels.erase("le");
            sets[s.labels].emplace_back(le, s.value);
        }
        for (const auto& [labels, buckets] : sets) {
            for (std::size_t k = 1; k < buckets.size(); ++k) {
                if (buckets[k].first <= buckets[k - 1].first ||
                    buckets[k].second < buckets[k - 1].second)
                    p.errors.push_back(name + ": buckets not cumulative");
            }
            if (buckets.empty() || !std::isinf(buckets.back().first))
                p.errors.push_back(name + ": no +Inf bucket");
            bool count_ok = false, has_sum = false;
            for (const auto& c : p.of(name + "_count"))
                count_ok = count_ok || (c.labels == labels && c.value == buckets.back().second);
            for (const auto& c : p.of(name + "_sum"))
                has_sum = has_sum || c.labels == labels;
            if (!count_ok || !has_sum)
                p.errors.push_back(name + ": _count or _sum missing or wrong");
        }
    }
    return p;
}

}  // namespace

TEST_CASE("counters, gauges and histograms render with one HELP and TYPE per family") {
    metrics::Registry r;
    auto& accepted = r.counter("sonae_events_total", "Events.", {"source", "reason"});
    auto& open = r.gauge("sonae_open", "Open things.", {"tenant"});
    auto& plain = r.counter("sonae_plain_total", "Without labels.");
    auto& latency = r.histogram("sonae_latency_seconds", "Latency.", {"kind"}, {0.1, 0.5, 1});
    r.gauge("sonae_idle", "A gauge never set.");
    r.histogram("sonae_idle_seconds", "A histogram never observed.", {}, {1});
    r.callback("sonae_connected", "From a callback.", metrics::Type::kGauge, {"broker"}, [] {
        return std::vector<metrics::Sample>{{{"a"}, 1}, {{"b"}, 0}};
    });

    accepted.inc({"siem", "ok"});
    accepted.inc({"siem", "ok"}, 2);
    accepted.inc({"wazuh", "unauthorized"});
    open.set({"default"}, 3);
    open.with({"city-a"}).add(-1);
    plain.inc();
    for (double v : {0.05, 0.1, 0.3, 0.7, 2.0})
        latency.observe({"publish"}, v);

    const std::string text = r.render();
    INFO(text);
    const Page page = parse(text);
    CHECK(page.errors.empty());
    for (const auto& e : page.errors)
        MESSAGE(e);
    CHECK(page.type.at("sonae_events_total") == "counter");
    CHECK(page.type.at("sonae_open") == "gauge");
    CHECK(page.type.at("sonae_latency_seconds") == "histogram");
    CHECK(page.help.at("sonae_plain_total") == "Without labels.");
    CHECK(accepted.value({"siem", "ok"}) == 3);
    CHECK(text.find("sonae_events_total{source=\"siem\",reason=\"ok\"} 3\n") != std::string::npos);
    CHECK(text.find("sonae_open{tenant=\"city-a\"} -1\n") != std::string::npos);
    CHECK(text.find("sonae_plain_total 1\n") != std::string::npos);
    // Families without labels exist from the start, so a scrape always finds them.
    CHECK(text.find("sonae_idle 0\n") != std::string::npos);
    CHECK(text.find("sonae_idle_seconds_bucket{le=\"+Inf\"} 0\n") != std::string::npos);
    CHECK(text.find("sonae_connected{broker=\"a\"} 1\n") != std::string::npos);
    // Buckets are cumulative (le is "less or equal"); +Inf holds everything.
    CHECK(text.find("sonae_latency_seconds_bucket{kind=\"publish\",le=\"0.1\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("sonae_latency_seconds_bucket{kind=\"publish\",le=\"0.5\"} 3\n") !=
          std::string::npos);
    CHECK(text.find("sonae_latency_seconds_bucket{kind=\"publish\",le=\"+Inf\"} 5\n") !=
          std::string::npos);
    CHECK(text.find("sonae_latency_seconds_count{kind=\"publish\"} 5\n") != std::string::npos);
    CHECK(latency.sum({"publish"}) == doctest::Approx(3.15));
    CHECK(latency.count({"publish"}) == 5);
}

TEST_CASE("label values and help texts are escaped as the format says") {
    metrics::Registry r;
    auto& c = r.counter("sonae_odd_total", "Help with a \\ backslash\nand a newline.", {"v"});
    const std::string odd = "quote \" backslash \\ newline \n end";
    c.inc({odd});
    c.inc({"日本語"});
    const std::string text = r.render();
    INFO(text);
    CHECK(text.find("# HELP sonae_odd_total Help with a \\\\ backslash\\nand a newline.\n") !=
          std::string::npos);
    CHECK(text.find(R"(sonae_odd_total{v="quote \" backslash \\ newline \n end"} 1)") !=
          std::string::npos);
    const Page page = parse(text);
    CHECK(page.errors.empty());
    bool found = false;
    for (const auto& s : page.of("sonae_odd_total"))
        found = found || s.labels.at("v") == odd;
    CHECK(found);
    CHECK(metrics::format_value(INFINITY) == "+Inf");
    CHECK(metrics::format_value(-INFINITY) == "-Inf");
    CHECK(metrics::format_value(NAN) == "NaN");
    CHECK(metrics::format_value(0.25) == "0.25");
    CHECK(metrics::format_value(1e6) == "1e+06");
    CHECK(metrics::format_value(12345) == "12345");
}

TEST_CASE("programming errors are refused when the family is declared or used") {
    metrics::Registry r;
    r.counter("sonae_a_total", "A.", {"x"});
    CHECK_THROWS_AS(r.counter("sonae_a_total", "again"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("sonae-bad", "dash"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("sonae_b", "label", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("sonae_c", "label", {"x", "x"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("sonae_d", "le", {"le"}, {1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("sonae_e", "bounds", {}, {2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("sonae_f", "bounds", {}, {}), std::invalid_argument);
    auto& c = r.counter("sonae_g_total", "G.", {"x", "y"});
    CHECK_THROWS_AS(c.inc({"only one"}), std::invalid_argument);
    CHECK_THROWS_AS(c.inc({"a", "b"}, -1), std::invalid_argument);
}

TEST_CASE("a gauge replaced from a sample drops the label sets that are gone") {
    metrics::Registry r;
    auto& g = r.gauge("sonae_rto", "RTO.", {"incident"});
    g.replace({{{"INC-1"}, 10}, {{"INC-2"}, 20}});
    CHECK(g.value({"INC-2"}) == 20);
    g.replace({{{"INC-2"}, 5}});
    const std::string text = r.render();
    CHECK(text.find("INC-1") == std::string::npos);
    CHECK(text.find("sonae_rto{incident=\"INC-2\"} 5\n") != std::string::npos);
    CHECK(parse(text).errors.empty());
}

TEST_CASE("updates from many threads are all counted while the page is rendered") {
    metrics::Registry r;
    auto& c = r.counter("sonae_n_total", "N.", {"t"});
    auto& h = r.histogram("sonae_h_seconds", "H.", {}, metrics::latency_buckets());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5000; ++i) {
                c.inc({std::to_string(t % 2)});
                h.observe(0.001 * (i % 7));
            }
        });
    }
    for (int i = 0; i < 20; ++i)
        CHECK(parse(r.render()).errors.empty());
    for (auto& t : threads)
        t.join();
    CHECK(c.value({"0"}) + c.value({"1"}) == 20000);
    CHECK(h.count() == 20000);
    CHECK(parse(r.render()).errors.empty());
}
