// sonae-loadgen: an HTTP/1.1 load generator over keep-alive connections (Boost.Beast).
//
// Closed loop (no --rate): every connection sends its next request as soon as the previous answer
// has arrived; latency runs from the write to the end of the response.
// Open loop (--rate R): requests are scheduled at start + i/R whether or not the server keeps up;
// a request waits for an idle connection when there is none, and its latency runs from its
// scheduled time to the end of its response, so queueing is counted (no coordinated omission).
//
// Each thread owns an io_context, its share of the connections and of the rate; the threads'
// schedules are interleaved so that together they issue evenly spaced requests.
#include <array>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using sonae::bench::Json;
using sonae::bench::UsageError;

constexpr const char* kUsage = R"(usage: sonae-loadgen --url http://HOST:PORT/PATH [options]
  --url URL            target (http only)                                 (required)
  --header 'N: V'      extra request header (repeatable)
  --body-file F        request body (the request becomes a POST); @SEQ@ is replaced by a
                       unique counter, @NS@ by the wall-clock time in ns when it is written
  --method M           request method (default: POST with a body, GET without)
  --connections N      keep-alive connections (default 64)
  --duration S         measured phase in seconds (default 10)
  --warmup S           unrecorded phase before it (default 1)
  --rate R             requests/s: open loop; without it: closed loop
  --threads T          threads, each with its own io_context (default 1)
  --seq-start N        first @SEQ@ value (default 1)
  --name NAME          copied into the output
  --grace S            time after the phase for the answers still due (default 5)
  --storm SPEC         alert storm: the bodies come from a seeded generator instead of
                       --body-file (see below); SPEC is key=value,... of groups (200),
                       assets (40), tenants (3), services (16), categories (5), rules (3),
                       seed (1), format (generic | alertmanager)
  --truth FILE         storm: write the ground truth (per group: tenant, service,
                       category, alerts sent and accepted, distinct dedup keys, the
                       bench_ns of its first accepted alert) as JSON to FILE
  --dry-run N          storm: send nothing; print the ground truth of alerts 0..N-1
Prints one JSON object on stdout; logs go to stderr.

Storm: alert n (counted from --seq-start) belongs to group g = h(seed, n) mod groups, comes
from asset k of the group's host set and carries rule r; its dedup key is
storm-<g>-<k>-<r>, so keys repeat. Group g is tenant storm-<g mod tenants + 1>, service
s<NN> = (g / tenants) / categories, category = (g / tenants) mod categories (of a fixed
list); its hosts st<T>-s<NN>-g<g>-<k> match the host glob st<T>-s<NN>-* of service s<NN>
in bench/playbooks/tenants/storm-<T>/catalog.yaml. {tenant} in --url is replaced by the
alert's tenant (storm-<T>). Titles carry bench_ns=, bench_group= and bench_seq=.
)";

constexpr int kMaxLoggedErrors = 5;  // per thread; the rest are only counted

struct Url {
    std::string host;
    std::string port;
    std::string target;  // path and query
};

Url parse_url(const std::string& url) {
    constexpr std::string_view kScheme = "http://";
    if (!url.starts_with(kScheme)) {
        throw UsageError("--url must start with http://: '" + url + "'");
    }
    const std::string rest = url.substr(kScheme.size());
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    Url out;
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.ends_with(']')) {
        out.host = authority;
        out.port = "80";
    } else {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
        sonae::bench::parse_number<std::uint16_t>("url", out.port);
    }
    if (out.host.starts_with('[') && out.host.ends_with(']')) {
        out.host = out.host.substr(1, out.host.size() - 2);  // [::1]
    }
    if (out.host.empty()) {
        throw UsageError("--url has no host: '" + url + "'");
    }
    return out;
}

// The request body split once at its @SEQ@ / @NS@ markers, so rendering is a few appends.
class BodyTemplate {
  public:
    explicit BodyTemplate(std::string_view body) {
        static constexpr std::string_view kSeq = "@SEQ@";
        static constexpr std::string_view kNs = "@NS@";
        std::string literal;
        while (!body.empty()) {
            const auto seq = body.find(kSeq);
            const auto ns = body.find(kNs);
            const auto at = std::min(seq, ns);
            if (at == std::string_view::npos) {
                literal += body;
                break;
            }
            literal += body.substr(0, at);
            const bool is_seq = at == seq;
            parts_.push_back(Part{std::move(literal), is_seq ? Token::kSeq : Token::kNs});
            literal.clear();
            body.remove_prefix(at + (is_seq ? kSeq.size() : kNs.size()));
        }
        parts_.push_back(Part{std::move(literal), Token::kNone});
    }

    // Writes the body for request number `seq` into `out`; @NS@ is read from the clock now.
    void render(std::string& out, std::uint64_t seq) const {
        out.clear();
        char seq_text[24];
        char ns_text[24];
        std::string_view seq_sv;
        std::string_view ns_sv;
        for (const Part& p : parts_) {
            out += p.literal;
            if (p.token == Token::kSeq) {
                if (seq_sv.empty()) {
                    seq_sv = format(seq_text, seq);
                }
                out += seq_sv;
            } else if (p.token == Token::kNs) {
                if (ns_sv.empty()) {  // one timestamp per request, however many markers
                    ns_sv = format(ns_text, static_cast<std::uint64_t>(sonae::bench::now_ns()));
                }
                out += ns_sv;
            }
        }
    }

  private:
    enum class Token { kNone, kSeq, kNs };
    struct Part {
        std::string literal;  // text before the token
        Token token;
    };

    static std::string_view format(char (&buf)[24], std::uint64_t v) {
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        return {buf, static_cast<std::size_t>(r.ptr - buf)};
    }

    std::vector<Part> parts_;
};

// The alert storm: a deterministic, stateless function from the alert number to its group,
// asset, rule and body, so that any thread can render any alert and two runs send the same.
struct StormSpec {
    unsigned groups = 200;
    unsigned assets = 40;
    unsigned tenants = 3;
    unsigned services = 16;
    unsigned categories = 5;
    unsigned rules = 3;
    std::uint64_t seed = 1;
    bool alertmanager = false;
};

// The categories of the canonical event schema, in the order groups use them.
constexpr std::array<std::string_view, 11> kCategories = {
    "malware",     "intrusion",       "phishing",   "ddos",
    "outage",      "data_leak",       "ransomware", "account_compromise",
    "device_loss", "vendor_incident", "other"};

StormSpec parse_storm(std::string_view text) {
    StormSpec s;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            throw UsageError("--storm: expected key=value, got '" + std::string(item) + "'");
        }
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        auto count = [&](unsigned lo, unsigned hi) {
            const auto v = sonae::bench::parse_number<unsigned>("storm " + std::string(key), value);
            if (v < lo || v > hi) {
                throw UsageError("--storm " + std::string(key) +
                                 ": out of range: " + std::string(value));
            }
            return v;
        };
        if (key == "groups") {
            s.groups = count(1, 1000000);
        } else if (key == "assets") {
            s.assets = count(1, 1000000);
        } else if (key == "tenants") {
            s.tenants = count(1, 1000);
        } else if (key == "services") {
            s.services = count(1, 100);
        } else if (key == "categories") {
            s.categories = count(1, kCategories.size());
        } else if (key == "rules") {
            s.rules = count(1, 1000);
        } else if (key == "seed") {
            s.seed = sonae::bench::parse_number<std::uint64_t>("storm seed", value);
        } else if (key == "format") {
            if (value != "generic" && value != "alertmanager") {
                throw UsageError("--storm format: generic or alertmanager, not '" +
                                 std::string(value) + "'");
            }
            s.alertmanager = value == "alertmanager";
        } else {
            throw UsageError("--storm: unknown key '" + std::string(key) + "'");
        }
    }
    const std::uint64_t capacity = std::uint64_t{s.tenants} * s.services * s.categories;
    if (s.groups > capacity) {
        throw UsageError(
            "--storm: " + std::to_string(s.groups) +
            " groups need more than tenants x services x categories = " + std::to_string(capacity));
    }
    return s;
}

class Storm {
  public:
    struct Alert {
        unsigned group;
        unsigned asset;
        unsigned rule;
    };

    explicit Storm(StormSpec spec) : spec_(spec) {}

    const StormSpec& spec() const { return spec_; }

    Alert alert(std::uint64_t n) const {
        const std::uint64_t h = mix(spec_.seed * 0x9E3779B97F4A7C15ULL + n);
        return Alert{static_cast<unsigned>(h % spec_.groups),
                     static_cast<unsigned>((h >> 24) % spec_.assets),
                     static_cast<unsigned>((h >> 48) % spec_.rules)};
    }

    unsigned tenant(unsigned group) const { return group % spec_.tenants; }
    std::string tenant_name(unsigned group) const {
        return "storm-" + std::to_string(tenant(group) + 1);
    }
    std::string service(unsigned group) const {
        const unsigned svc = group / spec_.tenants / spec_.categories;
        return (svc < 10 ? "s0" : "s") + std::to_string(svc);
    }
    std::string_view category(unsigned group) const {
        return kCategories[group / spec_.tenants % spec_.categories];
    }
    std::string host(unsigned group, unsigned asset) const {
        return "st" + std::to_string(tenant(group) + 1) + "-" + service(group) + "-g" +
               std::to_string(group) + "-" + std::to_string(asset);
    }
    std::string dedup_key(const Alert& a) const {
        return "storm-" + std::to_string(a.group) + "-" + std::to_string(a.asset) + "-" +
               std::to_string(a.rule);
    }

    // The body of alert n (request sequence number seq), stamped with `ns`.
    void render(std::string& out, const Alert& a, std::uint64_t seq, std::int64_t ns) const {
        const std::string g = std::to_string(a.group);
        const std::string marks = "bench_ns=" + std::to_string(ns) + " bench_group=" + g +
                                  " bench_seq=" + std::to_string(seq);
        const std::string rule = std::to_string(a.rule);
        out.clear();
        if (spec_.alertmanager) {
            // The labels a Prometheus rule would carry: alerts with equal labels are one alert
            // (Alertmanager's dedup key), group_by picks tenant, service and category.
            out += R"([{"labels":{"alertname":"storm","tenant":")" + tenant_name(a.group) +
                   R"(","service":")" + service(a.group) + R"(","category":")";
            out += category(a.group);
            out += R"(","instance":")" + host(a.group, a.asset) + R"(","rule":")" + rule +
                   R"(","severity":"high"},"annotations":{"summary":"storm )" + marks + R"("}}])";
        } else {
            out += R"({"dedup_key":")" + dedup_key(a) + R"(","action":"trigger","title":"storm )" +
                   marks + R"(","category":")";
            out += category(a.group);
            out += R"(","severity":"high","classification":"3B","assets":[{"host":")" +
                   host(a.group, a.asset) + R"("}],"labels":{"rule":")" + rule +
                   R"(","bench_group":")" + g + R"("}})";
        }
    }

  private:
    // splitmix64's finaliser: every input bit affects every output bit.
    static std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    StormSpec spec_;
};

// Per group: what was sent and what the target accepted (2xx).
struct GroupCount {
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    std::int64_t first_ns = 0;  // bench_ns of the earliest accepted alert; 0 = none
};

struct Config {
    Url url;
    std::string method;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body;
    unsigned connections = 64;
    double duration_s = 10;
    double warmup_s = 1;
    std::optional<double> rate;
    unsigned threads = 1;
    std::uint64_t seq_start = 1;
    std::string name;
    double grace_s = 5;
    std::optional<StormSpec> storm;
    std::string truth;                     // storm: ground-truth file
    std::optional<std::uint64_t> dry_run;  // storm: alerts to describe without sending
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw UsageError("--body-file: cannot read '" + path + "'");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::pair<std::string, std::string> parse_header(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) {
        throw UsageError("--header must look like 'Name: value': '" + text + "'");
    }
    const auto first = text.find_first_not_of(" \t", colon + 1);
    return {text.substr(0, colon), first == std::string::npos ? "" : text.substr(first)};
}

Config parse_config(int argc, char** argv) {
    const sonae::bench::Args args(
        argc, argv,
        {"url", "header", "body-file", "method", "connections", "duration", "warmup", "rate",
         "threads", "seq-start", "name", "storm", "truth", "dry-run", "grace"});
    if (args.help()) {
        std::cout << kUsage;
        std::exit(0);
    }
    Config c;
    if (auto spec = args.get("storm")) {
        if (args.has("body-file")) {
            throw UsageError("--storm and --body-file exclude each other");
        }
        c.storm = parse_storm(*spec);
        c.truth = args.string_or("truth", "");
        if (args.has("dry-run")) {
            c.dry_run = args.number_or<std::uint64_t>("dry-run", 0, 0, 1000000000);
        }
    } else if (args.has("truth") || args.has("dry-run")) {
        throw UsageError("--truth and --dry-run need --storm");
    }
    c.seq_start = args.number_or<std::uint64_t>("seq-start", 1, 0, UINT64_MAX / 2);
    if (c.dry_run) {
        return c;
    }
    c.url = parse_url(args.required("url"));
    for (const auto& h : args.all("header")) {
        c.headers.push_back(parse_header(h));
    }
    if (auto f = args.get("body-file")) {
        c.body = read_file(*f);
    }
    c.method = args.string_or("method", c.body || c.storm ? "POST" : "GET");
    c.connections = args.number_or<unsigned>("connections", 64, 1, 100000);
    c.duration_s = args.number_or<double>("duration", 10, 0.001, 1e6);
    c.warmup_s = args.number_or<double>("warmup", 1, 0, 1e6);
    if (args.has("rate")) {
        c.rate = args.number_or<double>("rate", 0, 1e-6, 1e9);
    }
    c.threads = args.number_or<unsigned>("threads", 1, 1, 1024);
    if (c.threads > c.connections) {
        throw UsageError("--threads must not exceed --connections");
    }
    c.name = args.string_or("name", "");
    c.grace_s = args.number_or<double>("grace", 5, 0, 1e6);
    return c;
}

// The request line and headers, identical for every request of a target; the body and its
// length vary.
std::string request_head(const Config& c, const std::string& target) {
    auto has = [&](std::string_view name) {
        return std::any_of(c.headers.begin(), c.headers.end(),
                           [&](const auto& h) { return beast::iequals(h.first, name); });
    };
    std::string head = c.method + " " + target + " HTTP/1.1\r\n";
    if (!has("Host")) {
        head += "Host: " + c.url.host + ":" + c.url.port + "\r\n";
    }
    if (!has("User-Agent")) {
        head += "User-Agent: sonae-loadgen\r\n";
    }
    if ((c.body || c.storm) && !has("Content-Type")) {
        head += "Content-Type: application/json\r\n";
    }
    for (const auto& [k, v] : c.headers) {
        head += k + ": " + v + "\r\n";
    }
    return head;
}

// What every thread shares, read-only once the threads run (except the counter).
struct Shared {
    Config config;
    std::vector<std::string> heads;  // one per storm tenant when the URL names {tenant}; else one
    BodyTemplate body;
    std::optional<Storm> storm;
    tcp::resolver::results_type endpoints;
    std::atomic<std::uint64_t> seq;
    Clock::time_point start;          // beginning of the warmup, set at the barrier
    Clock::time_point measure_start;  // start + warmup
    Clock::time_point end;            // measure_start + duration
};

struct Stats {
    std::vector<std::int64_t> latency_us;
    std::map<unsigned, std::uint64_t> status;
    std::uint64_t requests = 0;
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;      // transport errors, connect failures included
    std::uint64_t lost = 0;        // requests of the phase whose connection failed under them
    std::uint64_t unfinished = 0;  // scheduled in the phase, unanswered at the end of the grace
    std::uint64_t ok_completed_in_phase = 0;  // 2xx that arrived within the phase, whenever sent
    std::uint64_t ok_all = 0;                 // every 2xx, warmup and grace period included
    Clock::time_point phase_end;              // when this thread saw the measured phase end
    Clock::time_point last_ok;                // the last 2xx, whenever sent
    std::vector<GroupCount> groups;           // storm: by group
    std::vector<std::vector<bool>> keys;      // storm: by group, asset * rules + rule accepted
};

class Worker;

// One keep-alive connection with at most one request in flight.
class Conn {
  public:
    Conn(Worker& worker, asio::io_context& ioc) : worker_(worker), socket_(ioc), backoff_(ioc) {}

    void connect();
    void send(Clock::time_point scheduled);
    void close() {
        beast::error_code ignored;
        socket_.close(ignored);
    }

    bool connected() const { return connected_; }
    bool in_flight() const { return in_flight_; }
    Clock::time_point scheduled() const { return scheduled_; }

  private:
    void on_connect(const beast::error_code& ec);
    void on_write(const beast::error_code& ec);
    void on_read(const beast::error_code& ec);
    void fail(const beast::error_code& ec, const char* what);
    void reconnect_later();

    Worker& worker_;
    tcp::socket socket_;
    asio::steady_timer backoff_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    std::string length_line_;  // "Content-Length: N\r\n\r\n"
    std::string body_;
    Clock::time_point scheduled_;
    std::optional<Storm::Alert> alert_;  // storm: the alert in flight
    std::int64_t alert_ns_ = 0;
    bool connected_ = false;
    bool in_flight_ = false;
    unsigned failures_ = 0;  // consecutive, for the reconnect backoff
};

class Worker {
  public:
    Worker(Shared& shared, unsigned index) : shared_(shared), index_(index), timer_(ioc_) {
        const Config& c = shared.config;
        for (unsigned i = index; i < c.connections; i += c.threads) {
            conns_.push_back(std::make_unique<Conn>(*this, ioc_));
        }
        if (shared.storm) {
            const StormSpec& spec = shared.storm->spec();
            stats_.groups.resize(spec.groups);
            stats_.keys.assign(spec.groups,
                               std::vector<bool>(std::size_t{spec.assets} * spec.rules));
        }
    }

    // Opens every connection once; returns how many succeeded.
    std::size_t connect_all() {
        for (auto& c : conns_) {
            c->connect();
        }
        ioc_.run();
        ioc_.restart();
        connecting_ = false;
        return static_cast<std::size_t>(std::count_if(
            conns_.begin(), conns_.end(), [](const auto& c) { return c->connected(); }));
    }

    // Generates load from shared.start until shared.end plus the grace period.
    void run() {
        for (auto& c : conns_) {
            if (c->connected()) {
                idle_.push_back(c.get());
            } else {
                c->connect();
            }
        }
        if (shared_.config.rate) {
            on_tick();
        } else {
            for (Conn* c : std::exchange(idle_, {})) {
                c->send(Clock::now());
            }
            timer_.expires_at(shared_.end);
            timer_.async_wait([this](const beast::error_code& ec) {
                if (!ec) {
                    end_phase();
                }
            });
        }
        ioc_.run();
        for (auto& c : conns_) {
            if (c->in_flight() && in_phase(c->scheduled())) {
                ++stats_.unfinished;
            }
            c->close();
        }
        stats_.unfinished += static_cast<std::uint64_t>(
            std::count_if(pending_.begin(), pending_.end(), [&](auto t) { return in_phase(t); }));
    }

    Stats& stats() { return stats_; }

    // --- called by Conn ---
    const Shared& shared() const { return shared_; }
    bool connecting_phase() const { return connecting_; }
    std::uint64_t next_seq() { return shared_.seq.fetch_add(1, std::memory_order_relaxed); }

    // The connection has nothing in flight: give it work or park it.
    void on_idle(Conn& c) {
        if (shared_.config.rate) {
            idle_.push_back(&c);
            dispatch();
        } else if (generating_) {
            c.send(Clock::now());
        } else {
            idle_.push_back(&c);
        }
        maybe_finish();
    }

    void on_response(Clock::time_point scheduled, unsigned status) {
        --in_flight_;
        const auto now = Clock::now();
        const bool ok = status >= 200 && status < 300;
        if (ok && in_phase(now)) {
            ++stats_.ok_completed_in_phase;
        }
        if (ok) {
            stats_.last_ok = now;
            ++stats_.ok_all;
        }
        if (!in_phase(scheduled)) {
            return;
        }
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - scheduled);
        stats_.latency_us.push_back(us.count());
        ++stats_.status[status];
        ++stats_.requests;
        if (ok) {
            ++stats_.ok;
        }
    }

    void on_sent() { ++in_flight_; }

    // Storm: alert `a`, stamped `ns`, was sent; and what became of it.
    void on_storm_sent(const Storm::Alert& a) { ++stats_.groups[a.group].sent; }
    void on_storm_answer(const Storm::Alert& a, std::int64_t ns, unsigned status) {
        if (status < 200 || status >= 300) {
            return;
        }
        GroupCount& g = stats_.groups[a.group];
        ++g.accepted;
        if (g.first_ns == 0 || ns < g.first_ns) {
            g.first_ns = ns;
        }
        stats_.keys[a.group][std::size_t{a.asset} * shared_.storm->spec().rules + a.rule] = true;
    }

    // A transport error; `scheduled` is the lost request's time, if one was in flight.
    void on_error(std::optional<Clock::time_point> scheduled, const std::string& what) {
        if (scheduled) {
            --in_flight_;
        }
        const auto when = scheduled.value_or(Clock::now());
        if (in_phase(when)) {
            ++stats_.errors;
            if (scheduled) {
                ++stats_.lost;
            }
        }
        if (logged_errors_ < kMaxLoggedErrors) {
            ++logged_errors_;
            std::cerr << "sonae-loadgen[" << index_ << "]: " << what
                      << (logged_errors_ == kMaxLoggedErrors ? " (further errors not logged)" : "")
                      << "\n";
        }
        maybe_finish();
    }

  private:
    bool in_phase(Clock::time_point t) const {
        return t >= shared_.measure_start && t < shared_.end;
    }

    // Open loop: thread k issues requests k, k+T, k+2T... of the global schedule start + n/R,
    // i.e. its share R/T of the rate, interleaved with the other threads.
    Clock::time_point schedule_time(std::uint64_t i) const {
        const double n = static_cast<double>(i) * shared_.config.threads + index_;
        return shared_.start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(n / *shared_.config.rate));
    }

    // Queues every request whose time has come, hands them to idle connections, rearms.
    void on_tick() {
        const auto now = Clock::now();
        for (auto t = schedule_time(next_index_); t <= now && t < shared_.end;
             t = schedule_time(++next_index_)) {
            pending_.push_back(t);
        }
        dispatch();
        if (now >= shared_.end) {
            end_phase();
            return;
        }
        timer_.expires_at(std::min(schedule_time(next_index_), shared_.end));
        timer_.async_wait([this](const beast::error_code& ec) {
            if (!ec) {
                on_tick();
            }
        });
    }

    void dispatch() {
        while (!pending_.empty() && !idle_.empty()) {
            Conn* c = idle_.back();
            idle_.pop_back();
            const auto t = pending_.front();
            pending_.pop_front();
            c->send(t);
        }
    }

    // Stops generating; what is already queued or in flight gets the grace period.
    void end_phase() {
        generating_ = false;
        stats_.phase_end = Clock::now();
        timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(shared_.config.grace_s)));
        timer_.async_wait([this](const beast::error_code& ec) {
            if (!ec) {
                std::cerr << "sonae-loadgen[" << index_ << "]: grace period over with "
                          << in_flight_ + pending_.size() << " requests unanswered\n";
                ioc_.stop();
            }
        });
        maybe_finish();
    }

    void maybe_finish() {
        if (!generating_ && in_flight_ == 0 && pending_.empty()) {
            ioc_.stop();
        }
    }

    Shared& shared_;
    unsigned index_;
    asio::io_context ioc_{1};
    asio::steady_timer timer_;
    std::vector<std::unique_ptr<Conn>> conns_;  // after ioc_: destroyed first
    std::vector<Conn*> idle_;                   // connected, nothing in flight
    std::deque<Clock::time_point> pending_;     // open loop: scheduled, waiting for a connection
    std::uint64_t next_index_ = 0;
    std::size_t in_flight_ = 0;
    bool generating_ = true;
    bool connecting_ = true;
    int logged_errors_ = 0;
    Stats stats_;
};

void Conn::connect() {
    connected_ = false;
    beast::error_code ignored;
    socket_.close(ignored);
    asio::async_connect(
        socket_, worker_.shared().endpoints,
        [this](const beast::error_code& ec, const tcp::endpoint&) { on_connect(ec); });
}

void Conn::on_connect(const beast::error_code& ec) {
    if (ec) {
        worker_.on_error(std::nullopt, "connect: " + ec.message());
        if (!worker_.connecting_phase()) {  // the initial attempt is not retried from here
            reconnect_later();
        }
        return;
    }
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    buffer_.clear();
    if (!worker_.connecting_phase()) {
        worker_.on_idle(*this);
    }
}

void Conn::reconnect_later() {
    // 10 ms, 20 ms, ... up to 1 s between attempts while the target refuses connections.
    const auto delay = std::chrono::milliseconds(10) * (1U << std::min(failures_, 7U));
    ++failures_;
    backoff_.expires_after(delay);
    backoff_.async_wait([this](const beast::error_code& ec) {
        if (!ec) {
            connect();
        }
    });
}

void Conn::send(Clock::time_point scheduled) {
    scheduled_ = scheduled;
    in_flight_ = true;
    worker_.on_sent();
    const Shared& s = worker_.shared();
    const std::string* head = &s.heads.front();
    alert_.reset();
    if (s.storm) {
        const std::uint64_t seq = worker_.next_seq();
        const Storm::Alert a = s.storm->alert(seq - s.config.seq_start);
        alert_ns_ = sonae::bench::now_ns();
        s.storm->render(body_, a, seq, alert_ns_);
        if (s.heads.size() > 1) {
            head = &s.heads[s.storm->tenant(a.group)];
        }
        alert_ = a;
        worker_.on_storm_sent(a);
        length_line_ = "Content-Length: " + std::to_string(body_.size()) + "\r\n\r\n";
    } else if (s.config.body) {
        s.body.render(body_, worker_.next_seq());
        length_line_ = "Content-Length: " + std::to_string(body_.size()) + "\r\n\r\n";
    } else {
        body_.clear();
        length_line_ = "\r\n";
    }
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(*head), asio::buffer(length_line_),
                                                    asio::buffer(body_)};
    asio::async_write(socket_, buffers,
                      [this](const beast::error_code& ec, std::size_t) { on_write(ec); });
}

void Conn::on_write(const beast::error_code& ec) {
    if (ec) {
        fail(ec, "write");
        return;
    }
    parser_.emplace();
    http::async_read(socket_, buffer_, *parser_,
                     [this](const beast::error_code& rec, std::size_t) { on_read(rec); });
}

void Conn::on_read(const beast::error_code& ec) {
    if (ec) {
        fail(ec, "read");
        return;
    }
    in_flight_ = false;
    failures_ = 0;
    const auto& res = parser_->get();
    const bool keep_alive = res.keep_alive();
    if (alert_) {
        worker_.on_storm_answer(*alert_, alert_ns_, res.result_int());
    }
    worker_.on_response(scheduled_, res.result_int());
    if (keep_alive) {
        worker_.on_idle(*this);
    } else {
        connect();  // the server closes: not an error
    }
}

void Conn::fail(const beast::error_code& ec, const char* what) {
    in_flight_ = false;
    connected_ = false;
    worker_.on_error(scheduled_, std::string(what) + ": " + ec.message());
    reconnect_later();
}

Stats merge(std::vector<Stats>& all) {
    Stats total;
    for (Stats& s : all) {
        total.latency_us.insert(total.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
        for (const auto& [code, n] : s.status) {
            total.status[code] += n;
        }
        total.requests += s.requests;
        total.ok += s.ok;
        total.ok_all += s.ok_all;
        total.errors += s.errors;
        total.lost += s.lost;
        total.unfinished += s.unfinished;
        total.ok_completed_in_phase += s.ok_completed_in_phase;
        total.phase_end = std::max(total.phase_end, s.phase_end);
        total.last_ok = std::max(total.last_ok, s.last_ok);
        total.groups.resize(s.groups.size());
        total.keys.resize(s.keys.size());
        for (std::size_t g = 0; g < s.groups.size(); ++g) {
            GroupCount& t = total.groups[g];
            t.sent += s.groups[g].sent;
            t.accepted += s.groups[g].accepted;
            if (s.groups[g].first_ns != 0 &&
                (t.first_ns == 0 || s.groups[g].first_ns < t.first_ns)) {
                t.first_ns = s.groups[g].first_ns;
            }
            total.keys[g].resize(s.keys[g].size());
            for (std::size_t k = 0; k < s.keys[g].size(); ++k) {
                if (s.keys[g][k]) {
                    total.keys[g][k] = true;
                }
            }
        }
    }
    return total;
}

// The storm's ground truth: per group what was sent and accepted, and the totals.
Json storm_truth(const Storm& storm, const std::vector<GroupCount>& groups,
                 const std::vector<std::vector<bool>>& keys) {
    const StormSpec& spec = storm.spec();
    Json list = Json::array();
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    std::uint64_t distinct = 0;
    std::uint64_t seen = 0;
    for (unsigned g = 0; g < spec.groups; ++g) {
        const auto k = static_cast<std::uint64_t>(std::count(keys[g].begin(), keys[g].end(), true));
        sent += groups[g].sent;
        accepted += groups[g].accepted;
        distinct += k;
        seen += groups[g].accepted > 0 ? 1U : 0U;
        list.push_back(
            Json{{"group", g},
                 {"tenant", storm.tenant_name(g)},
                 {"service", storm.service(g)},
                 {"category", storm.category(g)},
                 {"sent", groups[g].sent},
                 {"accepted", groups[g].accepted},
                 {"keys", k},
                 {"first_ns", groups[g].first_ns == 0 ? Json(nullptr) : Json(groups[g].first_ns)}});
    }
    return Json{{"spec",
                 {{"groups", spec.groups},
                  {"assets", spec.assets},
                  {"tenants", spec.tenants},
                  {"services", spec.services},
                  {"categories", spec.categories},
                  {"rules", spec.rules},
                  {"seed", spec.seed},
                  {"format", spec.alertmanager ? "alertmanager" : "generic"}}},
                {"alerts_sent", sent},
                {"alerts_accepted", accepted},
                {"dedup_keys", distinct},
                {"groups_with_alerts", seen},
                {"groups", std::move(list)}};
}

// --dry-run N: the ground truth of alerts 0..N-1 and a hash of their bodies (stamped 0).
Json storm_dry_run(const Config& c) {
    const Storm storm(*c.storm);
    const StormSpec& spec = storm.spec();
    std::vector<GroupCount> groups(spec.groups);
    std::vector<std::vector<bool>> keys(spec.groups,
                                        std::vector<bool>(std::size_t{spec.assets} * spec.rules));
    std::uint64_t fnv = 0xCBF29CE484222325ULL;
    std::string body;
    for (std::uint64_t n = 0; n < *c.dry_run; ++n) {
        const Storm::Alert a = storm.alert(n);
        storm.render(body, a, c.seq_start + n, 0);
        for (const char ch : body) {
            fnv = (fnv ^ static_cast<unsigned char>(ch)) * 0x100000001B3ULL;
        }
        ++groups[a.group].sent;
        ++groups[a.group].accepted;
        keys[a.group][std::size_t{a.asset} * spec.rules + a.rule] = true;
    }
    Json out = storm_truth(storm, groups, keys);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv));
    out["bodies_fnv1a"] = hex;
    return out;
}

Json report(const Shared& shared, Stats& total) {
    const Config& c = shared.config;
    // The measured phase as it really ran: until the last thread noticed its end.
    const double duration_s =
        std::max(1e-9, sonae::bench::seconds_between(shared.measure_start, total.phase_end));
    Json status = Json::object();
    for (const auto& [code, n] : total.status) {
        status[std::to_string(code)] = n;
    }
    Json out;
    out["name"] = c.name;
    out["mode"] = c.rate ? "open" : "closed";
    out["target_rate"] = c.rate ? Json(*c.rate) : Json(nullptr);
    out["connections"] = c.connections;
    out["threads"] = c.threads;
    out["duration_s"] = sonae::bench::round3(duration_s);
    out["requests"] = total.requests;
    out["ok"] = total.ok;
    out["ok_all"] = total.ok_all;  // what the server accepted in all (warmup included)
    out["status"] = std::move(status);
    out["errors"] = total.errors;
    out["lost"] = total.lost;
    out["unfinished"] = total.unfinished;
    out["throughput_rps"] = sonae::bench::round3(static_cast<double>(total.ok) / duration_s);
    // What the server really sustained: when it cannot keep up with an open loop, the answers
    // to the phase's requests trickle in during the grace period and inflate throughput_rps.
    out["completed_rps"] =
        sonae::bench::round3(static_cast<double>(total.ok_completed_in_phase) / duration_s);
    out["latency_ms"] = sonae::bench::latency_summary_ms(total.latency_us);
    // Until the last 2xx arrived (grace period included): what an open loop really got through.
    out["last_ok_s"] = total.last_ok == Clock::time_point{}
                           ? Json(nullptr)
                           : Json(sonae::bench::round3(sonae::bench::seconds_between(
                                 shared.measure_start, total.last_ok)));
    if (shared.storm) {
        Json truth = storm_truth(*shared.storm, total.groups, total.keys);
        if (!c.truth.empty()) {
            std::ofstream f(c.truth, std::ios::binary | std::ios::trunc);
            f << truth.dump() << "\n";
            if (!f) {
                throw std::runtime_error("--truth: cannot write '" + c.truth + "'");
            }
        }
        truth.erase("groups");
        out["storm"] = std::move(truth);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    return sonae::bench::run_main(kUsage, [&] {
        Config config = parse_config(argc, argv);
        if (config.dry_run) {
            sonae::bench::print_json(storm_dry_run(config));
            return 0;
        }
        std::vector<std::string> heads;
        static constexpr std::string_view kTenant = "{tenant}";
        if (const auto at = config.url.target.find(kTenant);
            config.storm && at != std::string::npos) {
            for (unsigned t = 0; t < config.storm->tenants; ++t) {
                std::string target = config.url.target;
                target.replace(at, kTenant.size(), "storm-" + std::to_string(t + 1));
                heads.push_back(request_head(config, target));
            }
        } else {
            heads.push_back(request_head(config, config.url.target));
        }
        const BodyTemplate body(config.body.value_or(""));
        std::optional<Storm> storm;
        if (config.storm) {
            storm.emplace(*config.storm);
        }
        asio::io_context resolver_ioc;
        tcp::resolver resolver(resolver_ioc);
        auto endpoints = resolver.resolve(config.url.host, config.url.port);
        Shared shared{std::move(config),
                      std::move(heads),
                      body,
                      std::move(storm),
                      std::move(endpoints),
                      {},
                      {},
                      {},
                      {}};
        const Config& c = shared.config;
        shared.seq.store(c.seq_start);

        std::vector<std::unique_ptr<Worker>> workers;
        for (unsigned i = 0; i < c.threads; ++i) {
            workers.push_back(std::make_unique<Worker>(shared, i));
        }
        std::atomic<std::size_t> connected{0};
        // Once every thread has connected, the clock starts for all of them at the same time.
        std::barrier sync(static_cast<std::ptrdiff_t>(c.threads), [&]() noexcept {
            std::cerr << "sonae-loadgen: " << connected.load() << "/" << c.connections
                      << " connections opened; " << (c.rate ? "open" : "closed") << " loop, "
                      << c.warmup_s << " s warmup + " << c.duration_s << " s\n";
            shared.start = Clock::now();
            shared.measure_start = shared.start + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(c.warmup_s));
            shared.end = shared.measure_start + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(c.duration_s));
        });
        {
            std::vector<std::jthread> threads;
            for (auto& w : workers) {
                threads.emplace_back([&, worker = w.get()] {
                    connected += worker->connect_all();
                    sync.arrive_and_wait();
                    if (connected.load() > 0) {
                        worker->run();
                    }
                });
            }
        }
        if (connected.load() == 0) {
            throw std::runtime_error("no connection to " + c.url.host + ":" + c.url.port);
        }

        std::vector<Stats> stats;
        for (auto& w : workers) {
            stats.push_back(std::move(w->stats()));
        }
        Stats total = merge(stats);
        sonae::bench::print_json(report(shared, total));
        return 0;
    });
}
