// A real Prometheus (Debian's package) scrapes the three services of a stack: every target is up,
// each job has sonae_ series, and they move as an event and its notification flow (commands are
// counted in the orchestrator's component tests). promtool checks each /metrics page too.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

const char* kPrometheus = "/usr/bin/prometheus";
const char* kPromtool = "/usr/bin/promtool";

std::string percent_encode(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// Prometheus on a free port with its own storage, scraping `targets` (job -> host:port) every
// second; killed (TERM, then KILL) and its storage removed when the test ends.
class Prometheus {
  public:
    explicit Prometheus(const std::map<std::string, std::string>& targets)
        : dir_(make_temp_dir("prometheus")), port_(free_port()) {
        std::string config =
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n";
        for (const auto& [job, target] : targets)
            config += "  - job_name: " + job + "\n    static_configs:\n      - targets: ['" +
                      target + "']\n";
        write_file(dir_ + "/prometheus.yml", config);
        process_ = std::make_unique<Process>(
            kPrometheus, std::map<std::string, std::string>{}, dir_ + "/prometheus.log",
            std::vector<std::string>{"--config.file=" + dir_ + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir_ + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"});
        const bool ready = wait_until([&] { return http_get(url("/-/ready")).status == 200; },
                                      std::chrono::seconds(60));
        if (!ready)
            FAIL("Prometheus did not become ready:\n" << process_->log());
    }
    ~Prometheus() {
        process_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    // The result vector of an instant query (empty on an error).
    json query(const std::string& promql) const {
        const json r = http_get(url("/api/v1/query?query=" + percent_encode(promql))).json();
        if (!r.is_object() || r.value("status", "") != "success")
            return json::array();
        return r["data"]["result"];
    }
    json targets() const { return http_get(url("/api/v1/targets?state=active")).json(); }
    std::string log() const { return process_->log(); }

  private:
    std::string dir_;
    int port_;
    std::unique_ptr<Process> process_;
};

// Values of a query's result by the value of one label.
std::map<std::string, double> by_label(const json& result, const std::string& label) {
    std::map<std::string, double> out;
    for (const auto& r : result)
        out[r["metric"].value(label, "")] = std::stod(r["value"][1].get<std::string>());
    return out;
}

// promtool's own reading of a page: the text format and Prometheus' naming conventions.
std::string promtool_check(const std::string& page) {
    const std::string dir = make_temp_dir("promtool");
    write_file(dir + "/page.txt", page);
    const std::string cmd =
        std::string(kPromtool) + " check metrics < " + dir + "/page.txt > " + dir + "/out.txt 2>&1";
    const int rc = std::system(cmd.c_str());
    std::string out = read_file(dir + "/out.txt");
    std::filesystem::remove_all(dir);
    return rc == 0 ? "" : "promtool: " + out;
}

std::vector<std::pair<std::string, std::string>> bearer() {
    return {{"Authorization", "Bearer dev-token"}, {"Content-Type", "application/json"}};
}

}  // namespace

TEST_CASE("Prometheus scrapes all three services and their sonae_ series move") {
    const TestEnv env = TestEnv::require();
    if (!std::filesystem::exists(kPrometheus))
        FAIL("Debian's prometheus package is not installed (scripts/test installs it)");
    Receiver receiver;
    const std::string config = make_temp_dir("config");
    write_file(config + "/sources.yaml", R"(sources:
  - name: generic
    format: generic
    auth: {type: bearer, token: dev-token}
)");
    write_file(config + "/channels.yaml",
               "channels:\n  - name: test-hook\n    type: webhook\n    url: " + receiver.url() +
                   "\n    secret: whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=\n"
                   "    all: true\n    max_classification: 3A\n");
    Stack stack(env, {config, env.source_dir + "/tests/integration/playbooks", {}});
    INFO(stack.logs());

    // Each page is valid for promtool before anything flows.
    for (const std::string& page : {http_get(stack.url("/metrics")).body,
                                    http_get(stack.orchestrator_admin_url("/metrics")).body,
                                    http_get(stack.notifier_admin_url("/metrics")).body})
        CHECK(promtool_check(page) == "");

    Prometheus prom(
        {{"gateway", "127.0.0.1:" + std::to_string(stack.port())},
         {"orchestrator", "127.0.0.1:" + std::to_string(stack.orchestrator_admin_port())},
         {"notifier", "127.0.0.1:" + std::to_string(stack.notifier_admin_port())}});
    INFO(prom.log());

    // All three targets up.
    json targets;
    const bool up = wait_until(
        [&] {
            targets = prom.targets();
            if (!targets.is_object() || !targets.contains("data"))
                return false;
            std::set<std::string> healthy;
            for (const auto& t : targets["data"]["activeTargets"]) {
                if (t.value("health", "") == "up")
                    healthy.insert(t["labels"].value("job", ""));
            }
            return healthy == std::set<std::string>{"gateway", "notifier", "orchestrator"};
        },
        std::chrono::seconds(60));
    INFO(targets.dump(2));
    REQUIRE(up);

    // An event opens an incident (its notification is delivered); a bad token is refused.
    const std::string event = read_file(env.source_dir + "/tests/fixtures/siem/generic-event.json");
    REQUIRE(http_post(stack.url("/v1/events/generic"), event, bearer()).status == 202);
    REQUIRE(http_post(stack.url("/v1/events/generic"), event, {{"Authorization", "Bearer no"}})
                .status == 401);
    REQUIRE(wait_until([&] { return receiver.requests().size() >= 1; }, std::chrono::seconds(30)));

    // Every job has sonae_ series, and the ones that moved show it.
    std::map<std::string, double> series;
    const bool present = wait_until(
        [&] {
            series = by_label(prom.query(R"(count by (job) ({__name__=~"sonae_.+"}))"), "job");
            return series.size() == 3;
        },
        std::chrono::seconds(30));
    CHECK(present);
    for (const auto& [job, n] : series) {
        CAPTURE(job);
        CHECK(n >= 2);  // the notifier's fewest: its dead-letter counters, before any delivery
    }
    auto value_of = [&](const std::string& promql) {
        double v = -1;
        wait_until(
            [&] {
                const json r = prom.query(promql);
                if (r.empty())
                    return false;
                v = std::stod(r[0]["value"][1].get<std::string>());
                return v > 0;
            },
            std::chrono::seconds(30));
        return v;
    };
    CHECK(value_of(R"(sonae_events_accepted_total{job="gateway",source="generic"})") == 1);
    CHECK(value_of(R"(sonae_events_rejected_total{job="gateway",reason="unauthorized"})") == 1);
    CHECK(value_of(R"(sonae_publish_confirm_seconds_count{job="gateway"})") == 1);
    CHECK(value_of(R"(sonae_orchestrator_events_total{job="orchestrator",outcome="opened"})") == 1);
    CHECK(value_of(
              R"(sonae_incidents_open{job="orchestrator",tenant="default",severity="high"})") == 1);
    // e-application: a 24 h RTO from detection, so nearly all of it is left.
    const double left = value_of(R"(sonae_rto_time_left_seconds{job="orchestrator"})");
    CHECK(left > 23 * 3600);
    CHECK(left <= 24 * 3600);
    CHECK(value_of(R"(sonae_timers_pending{job="orchestrator"})") >= 1);
    CHECK(
        value_of(
            R"(sonae_notifications_total{job="notifier",channel="test-hook",outcome="delivered"})") >=
        1);
    // The pages stay valid for promtool with label sets filled in.
    for (const std::string& page : {http_get(stack.url("/metrics")).body,
                                    http_get(stack.orchestrator_admin_url("/metrics")).body,
                                    http_get(stack.notifier_admin_url("/metrics")).body})
        CHECK(promtool_check(page) == "");
}
