// The notifier's dispatcher in-process against the real RabbitMQ and Redis of scripts/test, with
// local receivers: a receiver that hangs for a minute holds only its own calls, while another
// channel gets every message on time and the broker connection (2 s heartbeats) never drops;
// failures are retried with backoff, Retry-After is honoured, and permanent ones dead-lettered.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "../src/dispatcher.hpp"

#include <atomic>
#include <map>
#include <thread>

#include <doctest/doctest.h>

#include <sonae/amqp/consumer.hpp>
#include <sonae/store/store.hpp>

#include "../src/service.hpp"
#include "testkit.hpp"

using namespace sonae;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

config::Channel webhook(const std::string& name, const std::string& url,
                        core::Duration timeout = 10 * core::kSecond) {
    config::Channel c;
    c.name = name;
    c.type = "webhook";
    c.url = url;
    c.all = true;
    c.timeout = timeout;
    c.secret = "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=";
    return c;
}

core::Notification notification(int i) {
    core::Notification n;
    n.tenant = "default";
    n.incident_id = "INC-20260401-" + std::to_string(1000 + i);
    n.id = "default:" + n.incident_id + ":n1";
    n.kind = "opened";
    n.title = "incident " + std::to_string(i);
    n.text = "text";
    n.redacted_title = n.title;
    n.redacted_text = n.text;
    return n;
}

// A dispatcher consuming on its own thread, and a connection to publish notifications with.
struct Bench {
    test::TestEnv env = test::TestEnv::require();
    std::string prefix = test::unique_name("n");
    store::Keys keys{prefix};
    amqp::Topology topology{prefix};
    config::Config config;
    redis::Connection redis{redis::Settings::parse(env.redis_url).value()};
    store::IncidentStore store{redis, keys};  // the dispatcher's (its thread only)
    redis::Connection reader_redis{redis::Settings::parse(env.redis_url).value()};
    store::IncidentStore reader{reader_redis, keys};  // the test thread's
    amqp::Connection publisher{amqp::Settings::parse(env.amqp_url).value()};
    metrics::Registry registry;
    notifier::Metrics metrics{registry};
    std::unique_ptr<notifier::Dispatcher> dispatcher;
    std::unique_ptr<amqp::ConsumerLoop> loop;
    std::atomic<bool> running{true};
    std::thread thread;

    explicit Bench(std::vector<config::Channel> channels) {
        config.channels = std::move(channels);
        topology.declare(publisher);
        publisher.enable_confirms();
        amqp::Settings settings = amqp::Settings::parse(env.amqp_url).value();
        settings.heartbeat_s = 2;  // a consumer blocked for 4 s would lose its connection
        dispatcher = std::make_unique<notifier::Dispatcher>(
            config, store, topology, clock::SystemClock::instance(), 42, metrics);
        loop = std::make_unique<amqp::ConsumerLoop>(
            amqp::ConsumerOptions{settings,
                                  topology,
                                  {core::wire::kNotifications, core::wire::kActions},
                                  64,
                                  "test-notifier"},
            *dispatcher);
        thread = std::thread([this] { loop->run(running); });
    }
    ~Bench() {
        running = false;
        thread.join();
        topology.remove(publisher);
    }

    void publish(const core::Notification& n) {
        const core::OutboxEntry o = core::OutboxEntry::of(n);
        publisher.publish_confirmed(
            {topology.message(o.routing_key, o.message_id, o.type, o.body, n.tenant)}, 5s);
    }

    std::vector<std::string> timeline_texts(const std::string& incident) {
        std::vector<std::string> out;
        for (const auto& e : reader.timeline("default", incident))
            out.push_back(e["text"].get<std::string>());
        return out;
    }
};

}  // namespace

TEST_CASE("a receiver hanging for a minute does not hold up another channel or the heartbeat") {
    test::Receiver hanging;
    test::Receiver healthy;
    hanging.set_delay(60s);
    Bench b(
        {webhook("hanging", hanging.url(), 2 * core::kSecond), webhook("healthy", healthy.url())});
    // One notification every 3 s for a minute, each to both channels; the healthy channel
    // must have each within a second, whatever the hanging one does.
    constexpr int kCount = 20;
    std::vector<std::chrono::milliseconds> latency;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i) {
        std::this_thread::sleep_until(start + i * 3s);
        const auto sent = std::chrono::steady_clock::now();
        b.publish(notification(i));
        REQUIRE(
            test::wait_until([&] { return healthy.requests().size() == std::size_t(i) + 1; }, 5s));
        latency.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
            healthy.requests().back().at - sent));
    }
    for (const auto& l : latency)
        CHECK(l < 1000ms);
    MESSAGE("healthy channel: worst latency "
            << std::max_element(latency.begin(), latency.end())->count() << " ms over "
            << latency.size() << " messages, while the other hung");
    // The hanging receiver was asked again and again (timeouts, then retries) ...
    CHECK(hanging.requests().size() >= std::size_t(kCount));
    // ... and the consumer kept its one connection: no reconnect, no redelivery, no duplicate.
    CHECK(b.loop->connections() == 1);
    CHECK(healthy.requests().size() == std::size_t(kCount));
    const auto texts = b.timeline_texts(notification(0).incident_id);
    CHECK(std::count(texts.begin(), texts.end(), "delivered opened to healthy") == 1);
    CHECK(std::count_if(texts.begin(), texts.end(), [](const std::string& t) {
              return t.rfind("delivery to hanging failed", 0) == 0;
          }) >= 1);
}

TEST_CASE("failures are retried with backoff until delivered, once") {
    test::Receiver flaky;
    flaky.set_status(500);
    Bench b({webhook("flaky", flaky.url())});
    b.publish(notification(1));
    REQUIRE(test::wait_until([&] { return flaky.requests().size() >= 3; }, 20s));
    flaky.set_status(200);
    REQUIRE(test::wait_until(
        [&] {
            const auto t = b.timeline_texts(notification(1).incident_id);
            return std::count(t.begin(), t.end(), "delivered opened to flaky") == 1;
        },
        60s));
    const auto requests = flaky.requests();
    // Every attempt carries the same webhook-id: the receiver can de-duplicate.
    for (const auto& r : requests)
        CHECK(r.headers.at("webhook-id") == notification(1).id);
    // Successive attempts are spaced by at least half their backoff (jittered, never zero).
    for (std::size_t i = 1; i < requests.size(); ++i)
        CHECK(requests[i].at - requests[i - 1].at >= 400ms);
    // Delivered exactly once: a later redelivery is skipped by its marker.
    b.publish(notification(1));
    b.publish(notification(2));
    REQUIRE(test::wait_until([&] { return flaky.requests().size() == requests.size() + 1; }, 10s));
    CHECK(json::parse(flaky.requests().back().body)["id"] == notification(2).id);
    // Every failed attempt counted as retried, each notification delivered once.
    CHECK(b.metrics.notifications.value({"flaky", "retried"}) ==
          static_cast<double>(requests.size() - 1));
    REQUIRE(test::wait_until(
        [&] {
            return b.metrics.notifications.value({"flaky", "delivered"}) == 2;
        },
        10s));
    CHECK(b.metrics.notifications.value({"flaky", "failed"}) == 0);
}

TEST_CASE("Retry-After delays the next attempt") {
    test::Receiver busy;
    Bench b({webhook("busy", busy.url())});
    busy.set_status(429);
    busy.set_retry_after(3);
    b.publish(notification(3));
    REQUIRE(test::wait_until([&] { return busy.requests().size() >= 2; }, 20s));
    const auto r = busy.requests();
    CHECK(r[1].at - r[0].at >= 3s);
}

TEST_CASE("a permanent refusal is dead-lettered and recorded") {
    test::Receiver gone;
    gone.set_status(410);
    Bench b({webhook("gone", gone.url())});
    b.publish(notification(4));
    REQUIRE(test::wait_until(
        [&] {
            for (const auto& t : b.timeline_texts(notification(4).incident_id)) {
                if (t.rfind("delivery to gone failed permanently (HTTP 410)", 0) == 0)
                    return true;
            }
            return false;
        },
        10s));
    amqp::Connection reader(amqp::Settings::parse(b.env.amqp_url).value());
    reader.consume(b.topology.dead_queue(core::wire::kNotifications));
    std::optional<amqp::Frame> f;
    REQUIRE(test::wait_until([&] { return (f = reader.next(100ms)).has_value(); }, 10s));
    const auto* d = std::get_if<amqp::Delivery>(&*f);
    REQUIRE(d != nullptr);
    CHECK(d->message_id == notification(4).id);
    CHECK(d->headers.at("x-sonae-reason") == "failed permanently for gone");
    CHECK(gone.requests().size() == 1);
    CHECK(b.metrics.notifications.value({"gone", "failed"}) == 1);
    CHECK(b.metrics.dead_lettered.value({"notifications"}) == 1);
    const std::string page = b.registry.render();
    CHECK(page.find("sonae_notifications_total{channel=\"gone\",outcome=\"failed\"} 1\n") !=
          std::string::npos);
    CHECK(page.find("sonae_dead_lettered_total{queue=\"notifications\"} 1\n") != std::string::npos);

    // A copy redelivered after the refusal (its dead-lettering was lost with a broker restart)
    // is not tried again, even though the receiver would now take it: it is dead-lettered again.
    gone.set_status(200);
    b.publish(notification(4));
    std::optional<amqp::Frame> again;
    REQUIRE(test::wait_until([&] { return (again = reader.next(100ms)).has_value(); }, 10s));
    const auto* d2 = std::get_if<amqp::Delivery>(&*again);
    REQUIRE(d2 != nullptr);
    CHECK(d2->message_id == notification(4).id);
    CHECK(gone.requests().size() == 1);
    CHECK(b.metrics.dead_lettered.value({"notifications"}) == 2);
    int outcomes = 0;
    for (const auto& t : b.timeline_texts(notification(4).incident_id))
        outcomes +=
            t.find("delivered") != std::string::npos || t.find("failed") != std::string::npos;
    CHECK(outcomes == 1);  // one outcome in the timeline: refused
}

TEST_CASE("a combined delivery: each notification delivered, retried and dead-lettered alone") {
    test::Receiver fine;
    test::Receiver flaky;
    test::Receiver gone;
    flaky.set_status(500);
    gone.set_status(410);
    std::vector<config::Channel> channels{
        webhook("fine", fine.url()), webhook("flaky", flaky.url()), webhook("gone", gone.url())};
    for (auto& c : channels)
        c.all = false;  // each notification names its channel
    Bench b(channels);
    auto to = [](int i, const std::string& channel) {
        core::Notification n = notification(i);
        n.channels = {channel};
        return core::to_json(n).dump();
    };
    // What the orchestrator's sink publishes for one batch: a JSON array, type "notifications",
    // here with an element that is no notification.
    amqp::Message combined =
        b.topology.message(core::wire::kNotifications, "combined", core::wire::kTypeNotifications,
                           "[" + to(20, "fine") + "," + to(21, "flaky") + R"(,{"junk":1},)" +
                               to(22, "fine") + "," + to(23, "gone") + "]",
                           "default");
    b.publisher.publish_confirmed({combined}, 5s);

    amqp::Connection reader(amqp::Settings::parse(b.env.amqp_url).value());
    reader.consume(b.topology.dead_queue(core::wire::kNotifications));
    auto dead_letters = [&](std::size_t n) {
        std::map<std::string, std::string> out;  // message id -> reason
        test::wait_until(
            [&] {
                while (auto f = reader.next(50ms)) {
                    if (const auto* d = std::get_if<amqp::Delivery>(&*f)) {
                        CHECK(json::parse(d->body).is_object());  // alone, not the array
                        out[d->message_id] = d->headers.at("x-sonae-reason");
                        reader.ack(d->delivery_tag);
                    }
                }
                return out.size() >= n;
            },
            15s);
        return out;
    };
    // The refused one and the unreadable one are dead-lettered on their own.
    const auto dead = dead_letters(2);
    REQUIRE(dead.size() == 2);
    const std::string refused_id = json::parse(to(23, "gone"))["id"];
    CHECK(dead.at(refused_id) == "failed permanently for gone");
    CHECK(dead.at("combined#3").find("unreadable") != std::string::npos);
    // The flaky one is retried alone until delivered; the others are not sent again.
    REQUIRE(test::wait_until([&] { return flaky.requests().size() >= 2; }, 20s));
    flaky.set_status(200);
    REQUIRE(test::wait_until(
        [&] {
            return b.metrics.notifications.value({"flaky", "delivered"}) == 1;
        },
        30s));
    REQUIRE(test::wait_until([&] { return fine.requests().size() == 2; }, 10s));
    CHECK(gone.requests().size() == 1);
    for (const auto& r : flaky.requests())
        CHECK(r.headers.at("webhook-id") == notification(21).id);
    const auto texts = b.timeline_texts(notification(21).incident_id);
    CHECK(std::count(texts.begin(), texts.end(), "delivered opened to flaky") == 1);

    // The same array redelivered: nothing is sent again; the refusal and the unreadable element
    // are dead-lettered again, which shows the redelivery was handled.
    const std::size_t flaky_before = flaky.requests().size();
    b.publisher.publish_confirmed({combined}, 5s);
    CHECK(dead_letters(2).size() == 2);
    CHECK(fine.requests().size() == 2);
    CHECK(flaky.requests().size() == flaky_before);
    CHECK(gone.requests().size() == 1);
    CHECK(b.metrics.notifications.value({"fine", "delivered"}) == 2);
}

TEST_CASE("e-mail reaches a real SMTP server: decoded Japanese subject, text/plain, threaded") {
    test::SmtpServer smtp;
    config::Channel mail;
    mail.name = "lgwan-mail";
    mail.type = "email";
    mail.url = smtp.url();
    mail.from = "sonae@city.example.lg.jp";
    mail.to = {"csirt@city.example.lg.jp"};
    mail.all = true;
    mail.max_classification = core::Classification::k3B;
    Bench b({mail});
    core::Notification n = notification(5);
    n.title = "【重大】住民記録システムの暗号化 (juki-ap01)";
    n.text = "影響業務: 住民記録\n資産: juki-ap01";
    n.redacted_title = "機密性3Aのインシデント";
    n.redacted_text = "資産: [redacted]";
    n.classification = core::Classification::k2;
    b.publish(n);
    json got;
    REQUIRE(test::wait_until(
        [&] {
            got = smtp.messages();
            return got.is_array() && got.size() == 1;
        },
        20s));
    const json& m = got[0];
    CHECK(m["subject"] == n.title);
    CHECK(m["content_type"] == "text/plain");
    CHECK(m["charset"] == "utf-8");
    CHECK(m["body"].get<std::string>().find("影響業務: 住民記録") != std::string::npos);
    CHECK(m["to"] == "csirt@city.example.lg.jp");
    CHECK(m["references"] == "<default.INC-20260401-1005@sonae>");
    // 3A content never goes to a channel cleared for 3B: the redacted texts are sent instead.
    core::Notification secret = notification(6);
    secret.title = "住民の個人番号が流出 (juki-db01)";
    secret.redacted_title = "機密性3Aのインシデント";
    secret.redacted_text = "[redacted]";
    secret.classification = core::Classification::k3A;
    b.publish(secret);
    REQUIRE(test::wait_until(
        [&] {
            got = smtp.messages();
            return got.is_array() && got.size() == 2;
        },
        20s));
    for (const auto& msg : got) {
        CHECK(msg["subject"].get<std::string>().find("個人番号") == std::string::npos);
        CHECK(msg.dump().find("juki-db01") == std::string::npos);
    }
    // The server has the message before the notifier has recorded the delivery: wait for it.
    CHECK(test::wait_until(
        [&] {
            const auto texts = b.timeline_texts(secret.incident_id);
            return std::count(texts.begin(), texts.end(),
                              "delivered opened to lgwan-mail (redacted)") == 1;
        },
        10s));
    // The entry's data says so; a delivery in full carries no "redacted" at all.
    const auto delivery = [&](const std::string& incident) {
        for (const auto& e : b.reader.timeline("default", incident)) {
            if (e["kind"] == "delivery")
                return e["data"];
        }
        return json();
    };
    CHECK(delivery(secret.incident_id).value("redacted", false));
    CHECK(test::wait_until([&] { return delivery(n.incident_id).is_object(); }, 10s));
    CHECK_FALSE(delivery(n.incident_id).contains("redacted"));
}

TEST_CASE("a command's answer goes back to the response_url it came from, once") {
    test::Receiver slack;
    test::Receiver hook;
    Bench b({webhook("hook", hook.url())});
    const core::ChatReply reply{"reply:c1",
                                "default",
                                "INC-20260401-0001",
                                core::ReplyTo{"slack", slack.url("/response"), "C1", "U1"},
                                true,
                                "✓ ack\nINC-20260401-0001"};
    const core::OutboxEntry o = core::OutboxEntry::of(reply);
    for (int i = 0; i < 2; ++i) {  // a redelivery is not posted twice
        b.publisher.publish_confirmed(
            {b.topology.message(o.routing_key, o.message_id, o.type, o.body, "default")}, 5s);
    }
    b.publish(notification(7));  // queued after both copies
    const std::string marker = b.keys.delivered("default", reply.id, "reply");
    // The receiver has a request before the notifier has read the answer and counted it: wait
    // for the counts too.
    REQUIRE(test::wait_until(
        [&] {
            return hook.requests().size() == 1 &&
                   b.reader_redis.command({"EXISTS", marker}).integer() == 1 &&
                   b.metrics.notifications.value({"hook", "delivered"}) == 1 &&
                   b.metrics.notifications.value({"reply", "delivered"}) == 1;
        },
        10s));
    const auto got = slack.requests();
    REQUIRE(got.size() == 1);
    const json body = json::parse(got[0].body);
    CHECK(body["response_type"] == "ephemeral");
    CHECK(body["text"] == reply.text);
}

TEST_CASE("a Slack channel gets about a message a second, in order, and all of them") {
    test::Receiver slack;
    config::Channel ch = webhook("csirt-slack", slack.url());
    ch.type = "slack";
    ch.rate_per_s = 1;
    Bench b({ch});
    for (int i = 10; i < 14; ++i)
        b.publish(notification(i));
    REQUIRE(test::wait_until([&] { return slack.requests().size() == 4; }, 20s));
    const auto got = slack.requests();
    // The first goes at once; each other waits for its turn (a token a second).
    for (std::size_t i = 1; i < got.size(); ++i)
        CHECK(got[i].at - got[i - 1].at >= 900ms);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(json::parse(got[i].body)["text"].get<std::string>().find(
                  "incident " + std::to_string(10 + i)) != std::string::npos);
    CHECK(got.back().at - got.front().at >= 2800ms);
}

TEST_CASE("the notifier serves /metrics and /healthz on its admin port (port 0: any)") {
    const test::TestEnv env = test::TestEnv::require();
    notifier::Settings s;
    const std::string prefix = test::unique_name("n");
    s.bus = service::Bus{redis::Settings::parse(env.redis_url).value(),
                         amqp::Settings::parse(env.amqp_url).value(), prefix};
    s.workers = 1;
    s.admin_port = 0;
    notifier::Service svc(std::move(s), clock::SystemClock::instance());
    svc.start();
    REQUIRE(svc.admin_port() != 0);
    const std::string base = "http://127.0.0.1:" + std::to_string(svc.admin_port());
    const auto r = test::http_get(base + "/metrics");
    CHECK(r.status == 200);
    CHECK(r.headers.at("content-type") == "text/plain; version=0.0.4");
    CHECK(r.body.find("sonae_dead_lettered_total{queue=\"notifications\"} 0\n") !=
          std::string::npos);
    CHECK(r.body.find("# TYPE sonae_notifications_total counter") != std::string::npos);
    CHECK(test::http_get(base + "/healthz").status == 200);
    svc.stop();
    amqp::Connection conn(amqp::Settings::parse(env.amqp_url).value());
    amqp::Topology{prefix}.remove(conn);
}
