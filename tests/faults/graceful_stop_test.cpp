// SIGTERM under load (PRODUCT §13): every service finishes what it holds, acknowledges what it
// committed and exits 0 within 10 s; the gateway's /readyz turns 503 before it stops listening;
// after the services are started again, every event answered 202 is in exactly one incident.
// SONAE_TEST_LOAD_SECONDS (default 2) sets how long the load runs between stops.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>

#include <doctest/doctest.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kStopLimit = std::chrono::seconds(10);  // the deadline of a graceful stop

std::chrono::seconds load_seconds() {
    const char* v = std::getenv("SONAE_TEST_LOAD_SECONDS");
    return std::chrono::seconds(v != nullptr ? std::max(1, std::atoi(v)) : 2);
}

const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", "Bearer t"},
                                                             {"Content-Type", "application/json"}};

std::string write_config(const std::string& receiver_url, const std::string& timeout) {
    const std::string dir = make_temp_dir("config");
    write_file(dir + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: t},\n"
               "     rate_limit: {per_second: 100000, burst: 100000}}\n");
    write_file(dir + "/channels.yaml",
               "channels:\n  - name: hook\n    type: webhook\n    url: " + receiver_url +
                   "\n    secret: whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0"
                   "LTMyYnl0ZSE=\n    all: true\n    timeout: " +
                   timeout + "\n    max_classification: 3A\n");
    return dir;
}

std::string event(std::uint64_t i) {
    return json{{"title", "stop test " + std::to_string(i)},
                {"dedup_key", "stop-" + std::to_string(i)},
                {"category", "outage"},
                {"severity", "low"}}
        .dump();
}

// Clients posting events as fast as the gateway answers; what was answered 202 is recorded.
class Load {
  public:
    Load(std::string url, int clients) : url_(std::move(url)) {
        for (int c = 0; c < clients; ++c)
            threads_.emplace_back([this] { run(); });
    }
    ~Load() { stop(); }
    void stop() {
        running_ = false;
        for (auto& t : threads_)
            t.join();
        threads_.clear();
    }
    std::size_t accepted() {
        std::lock_guard lock(mu_);
        return accepted_.size();
    }
    // Event id -> dedup key of every event answered 202.
    std::map<std::string, std::string> accepted_events() {
        std::lock_guard lock(mu_);
        return accepted_;
    }
    Clock::time_point last_accepted_at() {
        std::lock_guard lock(mu_);
        return last_accepted_at_;
    }
    std::uint64_t refused() const { return refused_.load(); }
    // Waits until `n` more events were accepted.
    bool wait_for_more(std::size_t n, std::chrono::seconds limit) {
        const std::size_t target = accepted() + n;
        return wait_until([&] { return accepted() >= target; }, limit);
    }

  private:
    void run() {
        while (running_.load()) {
            const std::uint64_t i = next_++;
            const HttpResult r = http_post(url_ + "/v1/events/generic", event(i), kAuth);
            if (r.status == 202) {
                std::lock_guard lock(mu_);
                accepted_[r.json()["event_ids"][0].get<std::string>()] =
                    "stop-" + std::to_string(i);
                last_accepted_at_ = Clock::now();
            } else {
                ++refused_;  // 503, or no gateway listening: not accepted, nothing promised
                if (r.status == 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing
            }
        }
    }

    const std::string url_;
    std::atomic<bool> running_{true};
    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::mutex mu_;
    std::map<std::string, std::string> accepted_;
    Clock::time_point last_accepted_at_{};
    std::vector<std::thread> threads_;
};

// /readyz answers as seen by a load balancer polling it, until the gateway stops answering.
struct ReadyzSample {
    long status = 0;  // 0: nothing listening
    std::string state;
    Clock::time_point at;
};

std::vector<ReadyzSample> poll_readyz_until_closed(const std::string& url,
                                                   std::chrono::seconds limit) {
    std::vector<ReadyzSample> samples;
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        const HttpResult r = http_get(url);
        const json body = r.json();
        samples.push_back(
            {r.status, body.is_object() ? body.value("status", "") : "", Clock::now()});
        if (r.status == 0)
            break;
    }
    return samples;
}

// SIGTERM, then the exit status and how long the stop took.
struct Stopped {
    std::optional<int> status;
    std::chrono::milliseconds took{0};
};

Stopped wait_stopped(Process& p, Clock::time_point since) {
    Stopped s;
    s.status = p.wait_exit(kStopLimit);
    s.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
    return s;
}

}  // namespace

TEST_CASE("SIGTERM under load: each service exits 0 within 10 s and no accepted event is lost") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    Stack stack(env, {write_config(receiver.url(), "10s"),
                      env.source_dir + "/tests/integration/playbooks",
                      {{"SONAE_DRAIN_SECONDS", "2"}}});
    Load load(stack.url(""), 4);
    const auto phase = load_seconds();
    REQUIRE_MESSAGE(load.wait_for_more(20, std::chrono::seconds(30)), stack.logs());
    std::this_thread::sleep_for(phase);  // the load runs this long before the first stop
    REQUIRE(wait_until([&] { return !receiver.requests().empty(); }, std::chrono::seconds(30)));

    // The consumers, both at once, each with a batch in hand.
    const auto consumers_stop = Clock::now();
    stack.orchestrator().terminate();
    stack.notifier().terminate();
    const Stopped orchestrator = wait_stopped(stack.orchestrator(), consumers_stop);
    const Stopped notifier = wait_stopped(stack.notifier(), consumers_stop);
    MESSAGE("orchestrator stopped in " << orchestrator.took.count() << " ms, notifier in "
                                       << notifier.took.count() << " ms");
    CHECK_MESSAGE(orchestrator.status == 0, stack.orchestrator().log());
    CHECK_MESSAGE(notifier.status == 0, stack.notifier().log());
    CHECK(orchestrator.took < kStopLimit);
    CHECK(notifier.took < kStopLimit);
    // Events are still accepted meanwhile: the broker keeps them.
    CHECK(load.wait_for_more(20, std::chrono::seconds(30)));
    stack.restart("orchestrator");
    stack.restart("notifier");
    std::this_thread::sleep_for(phase);

    // The gateway: a load balancer polling /readyz sees 503 "draining" while requests are still
    // answered, and only then does the gateway stop listening.
    const auto gateway_stop = Clock::now();
    stack.gateway().terminate();
    const auto samples = poll_readyz_until_closed(stack.url("/readyz"), kStopLimit);
    const Stopped gateway = wait_stopped(stack.gateway(), gateway_stop);
    MESSAGE("gateway stopped in " << gateway.took.count() << " ms");
    CHECK_MESSAGE(gateway.status == 0, stack.gateway().log());
    CHECK(gateway.took < kStopLimit);
    REQUIRE(!samples.empty());
    CHECK(samples.back().status == 0);  // closed in the end
    std::size_t first_draining = samples.size();
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (samples[i].status == 503 && samples[i].state == "draining") {
            first_draining = i;
            break;
        }
    }
    REQUIRE(first_draining < samples.size() - 1);
    for (std::size_t i = 0; i < first_draining; ++i)
        CHECK(samples[i].status == 200);  // ready until the stop began, never closed before
    for (std::size_t i = first_draining; i + 1 < samples.size(); ++i)
        CHECK(samples[i].status == 503);
    CHECK(load.last_accepted_at() > samples[first_draining].at);  // still served while draining

    stack.restart("gateway");
    CHECK(load.wait_for_more(20, std::chrono::seconds(30)));
    std::this_thread::sleep_for(phase);
    load.stop();

    // Every event answered 202 is applied, in exactly one incident, once.
    const auto accepted = load.accepted_events();
    MESSAGE(accepted.size() << " events accepted, " << load.refused() << " refused or unanswered");
    auto applied = [&] {
        std::size_t n = 0;
        for (const auto& [id, key] : accepted) {
            if (stack.redis()
                    .command({"EXISTS", stack.prefix() + ":default:done:evt:" + id})
                    .integer() == 1)
                ++n;
        }
        return n;
    };
    CHECK_MESSAGE(
        wait_until([&] { return applied() == accepted.size(); }, std::chrono::seconds(120)),
        stack.logs());
    std::map<std::string, std::vector<int>> incidents_of;  // dedup key -> alert count per incident
    const auto ids =
        stack.redis().command({"ZRANGE", stack.prefix() + ":default:incidents", "0", "-1"});
    for (const auto& id : ids.elements()) {
        const auto state =
            json::parse(stack.redis()
                            .command({"HGET", stack.prefix() + ":default:inc:" + id.str(), "state"})
                            .str());
        for (const auto& [key, alert] : state["alerts"].items())
            incidents_of[key].push_back(alert["n"].get<int>());
    }
    std::size_t in_one = 0;
    std::vector<std::string> wrong;  // dedup keys of accepted events not in exactly one incident
    for (const auto& [id, key] : accepted) {
        const auto it = incidents_of.find(key);
        if (it != incidents_of.end() && it->second == std::vector<int>{1})
            ++in_one;
        else if (wrong.size() < 10)
            wrong.push_back(key);
    }
    MESSAGE(in_one << " of " << accepted.size() << " accepted events in exactly one incident");
    CHECK_MESSAGE(in_one == accepted.size(), "for instance " << wrong.front());
}

TEST_CASE(
    "a notifier stopped while a receiver hangs exits 0 within 10 s, and the call comes again") {
    const TestEnv env = TestEnv::require();
    Receiver receiver;
    receiver.set_delay(std::chrono::seconds(60));  // longer than the channel's timeout
    Stack stack(
        env,
        {write_config(receiver.url(), "30s"), env.source_dir + "/tests/integration/playbooks", {}});
    const auto r = http_post(stack.url("/v1/events/generic"), event(1), kAuth);
    REQUIRE(r.status == 202);
    REQUIRE_MESSAGE(
        wait_until([&] { return receiver.requests().size() == 1; }, std::chrono::seconds(30)),
        stack.logs());
    const std::string notification = receiver.requests()[0].headers.at("webhook-id");

    const auto since = Clock::now();
    stack.notifier().terminate();
    const Stopped notifier = wait_stopped(stack.notifier(), since);
    MESSAGE("notifier with a call in flight stopped in " << notifier.took.count() << " ms");
    CHECK_MESSAGE(notifier.status == 0, stack.notifier().log());
    CHECK(notifier.took < kStopLimit);

    // Not acknowledged, so delivered by the next notifier (at least once).
    receiver.set_delay(std::chrono::milliseconds(0));
    stack.restart("notifier");
    const std::string marker = stack.prefix() + ":default:delivered:" + notification + ":hook";
    CHECK_MESSAGE(wait_until(
                      [&] {
                          return stack.redis().command({"EXISTS", marker}).integer() == 1;
                      },
                      std::chrono::seconds(30)),
                  stack.logs());
    const auto calls = receiver.requests();
    REQUIRE(calls.size() >= 2);
    CHECK(calls.back().headers.at("webhook-id") == notification);
}
