// RabbitMQ stopped under load: the gateway answers 503 (never 202) while it is away, 202 again
// once it is back, and every event accepted before the stop ends up in an incident.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <set>

#include <doctest/doctest.h>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
using nlohmann::json;

namespace {

std::string event(int i) {
    return json{{"title", "restart test " + std::to_string(i)},
                {"dedup_key", "restart-" + std::to_string(i)},
                {"category", "outage"},
                {"severity", "low"}}
        .dump();
}

const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", "Bearer t"},
                                                             {"Content-Type", "application/json"}};

}  // namespace

TEST_CASE("RabbitMQ stopped and started again: 503 meanwhile, nothing accepted is lost") {
    const TestEnv env = TestEnv::require();
    const std::string data = make_temp_dir("broker");
    const int port = free_port();
    const std::string broker_log = make_temp_dir("broker-log") + "/node.log";
    auto broker = start_rabbitmq_node(data, port, broker_log);

    const std::string config = make_temp_dir("config");
    write_file(config + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: t},\n"
               "     rate_limit: {per_second: 100000, burst: 100000}}\n");  // 503s come fast
    TestEnv mine = env;
    mine.amqp_url = "amqp://guest:guest@127.0.0.1:" + std::to_string(port) + "/";
    Stack stack(mine, {config, env.source_dir + "/tests/integration/playbooks", {}});

    std::set<std::string> accepted;
    int next = 0;
    for (; next < 30; ++next) {
        const auto r = http_post(stack.url("/v1/events/generic"), event(next), kAuth);
        REQUIRE(r.status == 202);
        accepted.insert(r.json()["event_ids"][0].get<std::string>());
    }

    broker->stop();  // SIGTERM: the node shuts down
    // While the broker is away nothing is accepted: 503 with Retry-After, never 202.
    int unavailable = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < until) {
        const auto r = http_post(stack.url("/v1/events/generic"), event(next++), kAuth);
        INFO(r.body);
        REQUIRE(r.status != 202);
        CHECK(r.status == 503);
        CHECK(r.headers.count("retry-after") == 1);
        CHECK(r.json()["error"]["code"] == "unavailable");
        ++unavailable;
    }
    CHECK(unavailable > 0);
    CHECK(http_get(stack.url("/readyz")).status == 503);

    broker = start_rabbitmq_node(data, port, broker_log);
    // The gateway reconnects with backoff; events are accepted again.
    bool back = wait_until(
        [&] {
            const auto r = http_post(stack.url("/v1/events/generic"), event(next++), kAuth);
            if (r.status == 202)
                accepted.insert(r.json()["event_ids"][0].get<std::string>());
            return r.status == 202;
        },
        std::chrono::seconds(60));
    INFO(stack.logs());
    REQUIRE(back);
    for (int i = 0; i < 10; ++i, ++next) {
        const auto r = http_post(stack.url("/v1/events/generic"), event(next), kAuth);
        REQUIRE(r.status == 202);
        accepted.insert(r.json()["event_ids"][0].get<std::string>());
    }

    // Every accepted event was applied to an incident (the orchestrator also reconnected).
    auto applied = [&] {
        std::size_t n = 0;
        for (const auto& id : accepted) {
            const auto key = stack.prefix() + ":default:done:evt:" + id;
            if (stack.redis().command({"EXISTS", key}).integer() == 1)
                ++n;
        }
        return n;
    };
    CHECK(wait_until([&] { return applied() == accepted.size(); }, std::chrono::seconds(90)));
    CHECK(applied() == accepted.size());
    // One incident per dedup key and no event applied twice (a 503 may hide an event the broker
    // did store; that one may open its own incident, but never a second one for a key).
    const auto ids =
        stack.redis().command({"ZRANGE", stack.prefix() + ":default:incidents", "0", "-1"});
    CHECK(ids.elements().size() >= accepted.size());
    for (const auto& id : ids.elements()) {
        const auto state =
            json::parse(stack.redis()
                            .command({"HGET", stack.prefix() + ":default:inc:" + id.str(), "state"})
                            .str());
        REQUIRE(state["alerts"].size() == 1);
        CHECK(state["alerts"].begin().value()["n"] == 1);
    }
}
