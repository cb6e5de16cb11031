// The AMQP wrapper's error paths, against the throwaway broker of scripts/test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sonae/amqp/coalesce.hpp>
#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/consumer.hpp>
#include <sonae/amqp/publisher.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/amqp/topology.hpp>

using namespace sonae::amqp;

namespace {

Settings server() {
    const char* url = std::getenv("SONAE_TEST_AMQP_URL");
    if (url == nullptr)
        FAIL("SONAE_TEST_AMQP_URL is not set: run scripts/test");
    return Settings::parse(url).value();
}

std::string unique(const std::string& stem) {
    static std::mt19937_64 rng(std::random_device{}());
    return stem + std::to_string(rng() % 1000000000);
}

int unused_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

// A topology of its own for one test, deleted afterwards: quorum queues are heavy.
struct ScopedTopology {
    Topology t;
    explicit ScopedTopology(std::string prefix) : t{std::move(prefix)} {}
    ~ScopedTopology() {
        try {
            Connection c(server());
            t.remove(c);
        } catch (const std::exception&) {
        }
    }
    ScopedTopology(const ScopedTopology&) = delete;
    ScopedTopology& operator=(const ScopedTopology&) = delete;
};

Message to(const Topology& t, const std::string& kind, const std::string& body,
           const std::string& id) {
    Message m;
    m.exchange = t.exchange();
    m.routing_key = kind;
    m.body = body;
    m.message_id = id;
    return m;
}

}  // namespace

TEST_CASE("URLs: clusters, default vhost, credentials") {
    const Settings s = Settings::parse("amqp://u:p@h1:5673/,amqp://h2/prod").value();
    REQUIRE(s.endpoints.size() == 2);
    CHECK(s.endpoints[0].host == "h1");
    CHECK(s.endpoints[0].port == 5673);
    CHECK(s.endpoints[0].user == "u");
    CHECK(s.endpoints[0].vhost == "/");
    CHECK(s.endpoints[1].vhost == "prod");
    CHECK(s.endpoints[1].user == "guest");
    CHECK(Settings::parse("http://x").error().field == "SONAE_AMQP_URL");
    CHECK_FALSE(Settings::parse(""));
}

TEST_CASE("no broker, or wrong credentials, is a ConnectionError") {
    Settings s;
    s.endpoints = {Endpoint{"127.0.0.1", unused_port(), "guest", "guest", "/"}};
    s.connect_timeout = std::chrono::milliseconds(500);
    CHECK_THROWS_AS(Connection{s}, ConnectionError);
    Settings bad = server();
    bad.endpoints[0].password = "wrong";
    CHECK_THROWS_AS(Connection{bad}, ConnectionError);
}

TEST_CASE("a cluster list falls over to the endpoint that answers") {
    Settings s = server();
    s.endpoints.insert(s.endpoints.begin(),
                       Endpoint{"127.0.0.1", unused_port(), "guest", "guest", "/"});
    s.connect_timeout = std::chrono::milliseconds(500);
    for (int i = 0; i < 3; ++i) {
        Connection c(s);
        CHECK(c.endpoint().port == server().endpoints[0].port);
    }
}

TEST_CASE("publish with confirms, consume with manual ack") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    Connection c(server());
    t.declare(c);
    c.enable_confirms();
    c.publish_confirmed({to(t, "events", "one", "m1"), to(t, "events", "two", "m2")},
                        std::chrono::seconds(5));
    c.set_prefetch(10);
    c.consume(t.queue("events"));
    std::vector<std::string> bodies;
    for (int i = 0; i < 50 && bodies.size() < 2; ++i) {
        auto f = c.next(std::chrono::milliseconds(100));
        if (!f)
            continue;
        if (auto* d = std::get_if<Delivery>(&*f)) {
            bodies.push_back(d->body);
            CHECK((d->message_id == "m1" || d->message_id == "m2"));
            c.ack(d->delivery_tag);
        }
    }
    CHECK(bodies == std::vector<std::string>{"one", "two"});
}

TEST_CASE(
    "ConsumerLoop batches: what has arrived is one batch, acked at once, a retry comes back") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    {
        Connection c(server());
        t.declare(c);
        c.enable_confirms();
        std::vector<Message> msgs;
        for (int i = 0; i < 20; ++i)
            msgs.push_back(to(t, "events", "body", "m" + std::to_string(i)));
        c.publish_confirmed(msgs, std::chrono::seconds(5));
    }
    std::atomic<bool> running{true};
    std::mutex mu;
    std::vector<std::size_t> batch_sizes;
    std::map<std::string, int> seen;
    ConsumerOptions o{server(), t, {"events"}, 64, "batch-test"};
    o.retry_pause = std::chrono::milliseconds(10);
    ConsumerLoop loop(o, [&](Connection&, const std::vector<Delivery>& batch) {
        std::vector<Verdict> verdicts;
        std::lock_guard lock(mu);
        if (batch_sizes.empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the rest arrives
        batch_sizes.push_back(batch.size());
        for (const auto& d : batch) {
            const int n = ++seen[d.message_id];
            verdicts.push_back(d.message_id == "m7" && n == 1 ? Verdict::kRetry : Verdict::kAck);
        }
        return verdicts;
    });
    std::thread th([&] { loop.run(running); });
    for (int i = 0; i < 200; ++i) {
        {
            std::lock_guard lock(mu);
            if (seen.size() == 20 && seen["m7"] == 2)
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    running = false;
    th.join();
    std::lock_guard lock(mu);
    CHECK(seen.size() == 20);
    CHECK(seen["m7"] == 2);  // requeued once, then acked
    CHECK(*std::max_element(batch_sizes.begin(), batch_sizes.end()) > 1);
    // Every acknowledgement reached the broker: a message published now is the first and only
    // one delivered (anything unacknowledged would have been requeued ahead of it).
    Connection c(server());
    c.enable_confirms();
    c.publish_confirmed({to(t, "events", "sentinel", "sentinel")}, std::chrono::seconds(5));
    c.set_prefetch(100);
    c.consume(t.queue("events"));
    std::vector<std::string> delivered;
    for (int i = 0; i < 100 && (delivered.empty() || delivered.back() != "sentinel"); ++i) {
        if (auto f = c.next(std::chrono::milliseconds(50))) {
            if (auto* d = std::get_if<Delivery>(&*f))
                delivered.push_back(d->message_id);
        }
    }
    CHECK(delivered == std::vector<std::string>{"sentinel"});
}

TEST_CASE("an unroutable mandatory publish is a PublishError, and the connection survives") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    Connection c(server());
    t.declare(c);
    c.enable_confirms();
    CHECK_THROWS_AS(c.publish_confirmed({to(t, "nowhere", "x", "lost")}, std::chrono::seconds(5)),
                    PublishError);
    c.publish_confirmed({to(t, "events", "ok", "fine")}, std::chrono::seconds(5));
}

// In a cluster, a delay queue the broker cannot serve (a classic one whose node is down answered
// 404, a quorum one without its majority) is refused; a refusal (here 406, the same queue
// declared with other arguments) must not stop a service connecting.
TEST_CASE("a delay queue the broker refuses: declared around, the connection stays usable") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    Connection c(server());
    const std::string rq = t.retry_queue("notifications", std::chrono::seconds(1));
    c.declare_queue(QueueSpec{rq, true, "", "", 0, 0});  // no TTL: conflicts
    const auto refused =
        c.try_declare_queue(QueueSpec{rq, true, t.exchange(), "notifications", 0, 1000},
                            t.retry_exchange(), "notifications.1s");
    REQUIRE(refused.has_value());
    CHECK(refused->find("406") != std::string::npos);
    t.declare(c);  // the other queues are declared; the refused one is skipped
    CHECK_FALSE(c.try_declare_queue(QueueSpec{t.retry_queue("actions", std::chrono::seconds(2)),
                                              true, t.exchange(), "actions", 0, 2000},
                                    t.retry_exchange(),
                                    t.retry_key("actions", std::chrono::seconds(2))));
    c.enable_confirms();
    c.publish_confirmed({to(t, "events", "still", "usable")}, std::chrono::seconds(5));
    c.set_prefetch(1);
    c.consume(t.queue("events"));
    std::string body;
    for (int i = 0; i < 50 && body.empty(); ++i) {
        if (auto f = c.next(std::chrono::milliseconds(100))) {
            if (auto* d = std::get_if<Delivery>(&*f)) {
                body = d->body;
                c.ack(d->delivery_tag);
            }
        }
    }
    CHECK(body == "still");
}

// A nack (here: a full queue rejecting publishes) fails its batch and makes the publisher
// reconnect: in a cluster, a channel can nack every publish once a queue leader's node stopped.
TEST_CASE("a nack fails its batch, and the publisher and the connection do not go on with it") {
    const std::string q = unique("amqptest-full");
    Connection admin(server());
    admin.declare_queue(QueueSpec{q, false, "", "", 0, 0, 1});
    Message m;
    m.routing_key = q;  // the default exchange
    m.body = "x";
    admin.publish_confirmed({m}, std::chrono::seconds(5));  // the queue is full now
    CHECK_THROWS_AS(admin.publish_confirmed({m}, std::chrono::seconds(5)), PublishError);
    CHECK_THROWS_AS(admin.next(std::chrono::milliseconds(10)), ConnectionError);

    ConfirmingPublisher::Options o;
    o.settings = server();
    ConfirmingPublisher publisher(o);
    publisher.start();
    for (int i = 0; i < 100 && !publisher.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(publisher.connected());
    std::promise<PublishOutcome> refused;
    publisher.submit({m}, [&](PublishOutcome r) { refused.set_value(std::move(r)); });
    const PublishOutcome r = refused.get_future().get();
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("nack") != std::string::npos);
    // It reconnects, and publishes again once the queue has room.
    {
        Connection c(server());
        c.delete_queue(q);
    }
    std::promise<PublishOutcome> later;
    const ScopedTopology scoped{unique("amqptest")};
    {
        Connection c(server());
        scoped.t.declare(c);
    }
    publisher.submit({to(scoped.t, "events", "after", "a1")},
                     [&](PublishOutcome o2) { later.set_value(std::move(o2)); });
    CHECK(later.get_future().get().ok);
    CHECK(publisher.stats().reconnects >= 1);
    publisher.stop();
}

TEST_CASE("publishing to an exchange that does not exist closes the channel: ConnectionError") {
    Connection c(server());
    c.enable_confirms();
    Message m;
    m.exchange = unique("no-such-exchange");
    m.routing_key = "x";
    m.body = "x";
    CHECK_THROWS_AS(c.publish_confirmed({m}, std::chrono::seconds(5)), ConnectionError);
    CHECK_THROWS_AS(c.next(std::chrono::milliseconds(10)), ConnectionError);  // unusable now
}

TEST_CASE(
    "ConfirmingPublisher: answers each batch once, unroutable fails, no broker fails at once") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    ConfirmingPublisher::Options o;
    o.settings = server();
    o.on_connect = [t](Connection& c) { t.declare(c); };
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());
    std::vector<std::future<PublishOutcome>> outcomes;
    for (int i = 0; i < 50; ++i) {
        auto promise = std::make_shared<std::promise<PublishOutcome>>();
        outcomes.push_back(promise->get_future());
        p.submit({to(t, "events", "b" + std::to_string(i), unique("id"))},
                 [promise](PublishOutcome r) { promise->set_value(std::move(r)); });
    }
    for (auto& f : outcomes)
        CHECK(f.get().ok);
    std::promise<PublishOutcome> unroutable;
    p.submit({to(t, "events", "fine", unique("id")), to(t, "nowhere", "lost", unique("id"))},
             [&](PublishOutcome r) { unroutable.set_value(std::move(r)); });
    const PublishOutcome u = unroutable.get_future().get();
    CHECK_FALSE(u.ok);
    CHECK(u.error.find("unroutable") != std::string::npos);
    CHECK(p.stats().confirmed >= 51);
    p.stop();

    ConfirmingPublisher::Options dead;
    dead.settings.endpoints = {Endpoint{"127.0.0.1", unused_port(), "guest", "guest", "/"}};
    dead.settings.connect_timeout = std::chrono::milliseconds(200);
    ConfirmingPublisher nobody(dead);
    nobody.start();
    std::promise<PublishOutcome> refused;
    nobody.submit({to(t, "events", "x", "y")},
                  [&](PublishOutcome r) { refused.set_value(std::move(r)); });
    const PublishOutcome r = refused.get_future().get();
    CHECK_FALSE(r.ok);
    CHECK(r.error == "broker unavailable");
}

namespace {

// A TCP proxy in front of the broker whose connections a test can cut, as a network would.
class CuttableProxy {
  public:
    explicit CuttableProxy(int upstream_port)
        : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
          upstream_(upstream_port) {
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~CuttableProxy() {
        ioc_.stop();
        thread_.join();
    }
    int port() const { return acceptor_.local_endpoint().port(); }
    // Closes every open connection (both sides); new ones are accepted again.
    void cut() {
        boost::asio::post(ioc_, [this] {
            for (auto& s : sockets_) {
                boost::system::error_code ignored;
                s->close(ignored);
            }
            sockets_.clear();
        });
    }

  private:
    using Socket = std::shared_ptr<boost::asio::ip::tcp::socket>;
    void accept() {
        acceptor_.async_accept(
            [this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
                if (ec)
                    return;
                auto client = std::make_shared<boost::asio::ip::tcp::socket>(std::move(s));
                auto server = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
                server->connect({boost::asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(upstream_)},
                                ec);
                if (!ec) {
                    sockets_.push_back(client);
                    sockets_.push_back(server);
                    pump(client, server);
                    pump(server, client);
                }
                accept();
            });
    }
    void pump(const Socket& from, const Socket& to) {
        auto buf = std::make_shared<std::array<char, 16384>>();
        from->async_read_some(
            boost::asio::buffer(*buf),
            [this, from, to, buf](boost::system::error_code ec, std::size_t n) {
                if (ec) {
                    boost::system::error_code ignored;
                    to->close(ignored);
                    return;
                }
                boost::asio::async_write(
                    *to, boost::asio::buffer(buf->data(), n),
                    [this, from, to, buf](boost::system::error_code wec, std::size_t) {
                        if (!wec)
                            pump(from, to);
                    });
            });
    }
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    int upstream_;
    std::vector<Socket> sockets_;
    std::thread thread_;
};

}  // namespace

TEST_CASE(
    "ConfirmingPublisher: a cut connection is re-established and unconfirmed messages "
    "republished") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    CuttableProxy proxy(server().endpoints[0].port);
    ConfirmingPublisher::Options o;
    o.settings = server();
    o.settings.endpoints[0].port = proxy.port();
    o.confirm_timeout = std::chrono::seconds(20);
    o.on_connect = [t](Connection& c) { t.declare(c); };
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());

    std::mutex mu;
    std::vector<PublishOutcome> outcomes;
    std::set<std::string> ids;
    const int kBatches = 400;
    for (int i = 0; i < kBatches; ++i) {
        const std::string id = "m" + std::to_string(i);
        ids.insert(id);
        p.submit({to(t, "events", "body " + id, id)}, [&](PublishOutcome r) {
            std::lock_guard lock(mu);
            outcomes.push_back(std::move(r));
        });
        if (i == kBatches / 2)
            proxy.cut();  // mid-flight: some published, not yet confirmed
        if (i % 50 == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool all_answered = [&] {
        for (int i = 0; i < 600; ++i) {
            {
                std::lock_guard lock(mu);
                if (outcomes.size() == static_cast<std::size_t>(kBatches))
                    return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }();
    REQUIRE(all_answered);
    int ok = 0;
    for (const auto& r : outcomes)
        ok += r.ok ? 1 : 0;
    CHECK(ok == kBatches);  // nobody was told 'failed' for a message the broker got
    CHECK(p.stats().reconnects >= 1);
    p.stop();

    // Every message is in the queue at least once (a republish may duplicate: at-least-once).
    Connection c(server());
    c.set_prefetch(1000);
    c.consume(t.queue("events"));
    std::set<std::string> seen;
    for (int i = 0; i < 200 && seen.size() < ids.size(); ++i) {
        while (auto f = c.next(std::chrono::milliseconds(50))) {
            if (auto* d = std::get_if<Delivery>(&*f)) {
                seen.insert(d->message_id);
                c.ack(d->delivery_tag);
            }
        }
    }
    CHECK(seen == ids);
}

namespace {

Message batchable(const Topology& t, const std::string& kind, const std::string& id) {
    Message m = to(t, kind, nlohmann::json{{"id", id}}.dump(), id);
    m.batch_type = kind;
    return m;
}

// Consumes `queue` until `want` distinct elements arrived (a combined message counts each of its
// elements) or nothing more comes: element id -> times seen, and the broker messages.
struct Drained {
    std::map<std::string, int> ids;
    std::size_t messages = 0;
};
Drained drain(const std::string& queue, std::size_t want) {
    Connection c(server());
    c.set_prefetch(1000);
    c.consume(queue);
    Drained out;
    for (int idle = 0; idle < 40 && out.ids.size() < want;) {
        auto f = c.next(std::chrono::milliseconds(50));
        if (!f) {
            ++idle;
            continue;
        }
        if (auto* d = std::get_if<Delivery>(&*f)) {
            ++out.messages;
            const auto body = nlohmann::json::parse(d->body);
            const auto list = body.is_array() ? body : nlohmann::json::array({body});
            for (const auto& e : list) {
                ++out.ids[e.at("id").get<std::string>()];
            }
            c.ack(d->delivery_tag);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("coalesce: groups per exchange, key and batch type, bounded, order kept per key") {
    const Topology t{"x"};
    std::vector<Message> in;
    for (int i = 0; i < 5; ++i)
        in.push_back(batchable(t, "events", "e" + std::to_string(i)));
    in.push_back(batchable(t, "notifications", "n0"));
    in.push_back(to(t, "events", "{\"id\":\"single\"}", "single"));  // closes the events group
    in.push_back(batchable(t, "events", "e5"));
    in.push_back(batchable(t, "notifications", "n1"));
    in[0].headers = {{"tenant", "a"}, {"source", "s"}};
    in[1].headers = {{"tenant", "a"}, {"source", "t"}};
    in[2].headers = {{"tenant", "a"}};
    const std::vector<Message> out = coalesce(in, CoalesceLimits{3, 1 << 20});
    REQUIRE(out.size() == 5);
    CHECK(out[0].body == R"([{"id":"e0"},{"id":"e1"},{"id":"e2"}])");
    CHECK(out[0].type == "events");
    CHECK(out[0].message_id == "e0+2");
    CHECK(out[0].headers == Headers{{"tenant", "a"}});  // what all parts have in common
    CHECK(out[1].body == R"([{"id":"e3"},{"id":"e4"}])");
    CHECK(out[2].body == R"([{"id":"n0"},{"id":"n1"}])");
    CHECK(out[2].routing_key == "notifications");
    CHECK(out[3].message_id == "single");
    CHECK(out[4].body == R"({"id":"e5"})");  // a group of one stays the message itself
    CHECK(out[4].batch_type.empty());
    // The byte bound: each body is 11 bytes, the array of two 25.
    CHECK(coalesce(std::vector<Message>(in.begin(), in.begin() + 3), CoalesceLimits{128, 24})
              .size() == 3);
    CHECK(coalesce(std::vector<Message>(in.begin(), in.begin() + 3), CoalesceLimits{128, 25})
              .size() == 2);
    CHECK(coalesce(in, CoalesceLimits{1, 1 << 20}).size() == in.size());  // off
}

TEST_CASE(
    "ConfirmingPublisher: concurrent submits become fewer broker messages, each answered "
    "once") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    ConfirmingPublisher::Options o;
    o.settings = server();
    o.on_connect = [t](Connection& c) { t.declare(c); };
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());

    // One request of 300: 128 + 128 + 44, whatever the timing.
    std::vector<Message> big;
    for (int i = 0; i < 300; ++i)
        big.push_back(batchable(t, "events", "big" + std::to_string(i)));
    std::promise<PublishOutcome> big_done;
    p.submit(std::move(big), [&](PublishOutcome r) { big_done.set_value(std::move(r)); });
    CHECK(big_done.get_future().get().ok);
    CHECK(p.stats().published == 3);
    CHECK(p.stats().coalesced == 300);

    const int kThreads = 8;
    const int kPerThread = 250;
    std::vector<std::atomic<int>> answered(kThreads * kPerThread);
    std::atomic<int> ok{0};
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
        threads.emplace_back([&, th] {
            for (int i = 0; i < kPerThread; ++i) {
                const int n = th * kPerThread + i;
                p.submit({batchable(t, "events", "c" + std::to_string(n))},
                         [&, n](PublishOutcome r) {
                             ++answered[static_cast<std::size_t>(n)];
                             ok += r.ok ? 1 : 0;
                             ++done;
                         });
            }
        });
    }
    for (auto& th : threads)
        th.join();
    const int total = kThreads * kPerThread;
    for (int i = 0; i < 600 && done.load() < total; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(done.load() == total);
    CHECK(ok.load() == total);
    CHECK(std::all_of(answered.begin(), answered.end(), [](const auto& a) { return a == 1; }));
    const PublisherStats s = p.stats();
    MESSAGE("broker messages for ", total, " concurrent single-event requests: ", s.published - 3,
            " (", s.coalesced - 300, " travelled combined)");
    CHECK(s.published - 3 < static_cast<std::uint64_t>(total));
    CHECK(s.confirmed == s.published);

    // A combined message that is unroutable fails every request that contributed to it.
    std::promise<PublishOutcome> lost;
    p.submit({batchable(t, "events", "fine"), batchable(t, "nowhere", "l1"),
              batchable(t, "nowhere", "l2")},
             [&](PublishOutcome r) { lost.set_value(std::move(r)); });
    const PublishOutcome u = lost.get_future().get();
    CHECK_FALSE(u.ok);
    CHECK(u.error.find("unroutable") != std::string::npos);
    p.stop();

    // Every element arrived once, in fewer broker messages than elements.
    const Drained d = drain(t.queue("events"), static_cast<std::size_t>(total) + 301);
    CHECK(d.ids.size() == static_cast<std::size_t>(total) + 301);
    CHECK(std::all_of(d.ids.begin(), d.ids.end(), [](const auto& kv) { return kv.second == 1; }));
    CHECK(d.messages == s.published + 1);
}

TEST_CASE(
    "ConfirmingPublisher: combined messages cut mid-flight are republished, none lost, "
    "none answered twice") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    CuttableProxy proxy(server().endpoints[0].port);
    ConfirmingPublisher::Options o;
    o.settings = server();
    o.settings.endpoints[0].port = proxy.port();
    o.confirm_timeout = std::chrono::seconds(20);
    o.on_connect = [t](Connection& c) { t.declare(c); };
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());

    const int kBatches = 400;
    std::vector<std::atomic<int>> answered(kBatches);
    std::atomic<int> ok{0};
    std::atomic<int> done{0};
    for (int i = 0; i < kBatches; ++i) {
        const std::string id = "m" + std::to_string(i);
        p.submit({batchable(t, "events", id + "a"), batchable(t, "events", id + "b")},
                 [&, i](PublishOutcome r) {
                     ++answered[static_cast<std::size_t>(i)];
                     ok += r.ok ? 1 : 0;
                     ++done;
                 });
        if (i == kBatches / 2)
            proxy.cut();  // mid-flight: some published, not yet confirmed
    }
    for (int i = 0; i < 600 && done.load() < kBatches; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(done.load() == kBatches);
    CHECK(ok.load() == kBatches);  // nobody was told 'failed' for a message the broker got
    CHECK(std::all_of(answered.begin(), answered.end(), [](const auto& a) { return a == 1; }));
    CHECK(p.stats().reconnects >= 1);
    p.stop();
    const Drained d = drain(t.queue("events"), 2 * kBatches);
    CHECK(d.ids.size() == static_cast<std::size_t>(2 * kBatches));  // at least once each
}

TEST_CASE(
    "ConfirmingPublisher: a broker that went away fails every request of a combined "
    "message, once") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    auto proxy = std::make_unique<CuttableProxy>(server().endpoints[0].port);
    ConfirmingPublisher::Options o;
    o.settings = server();
    o.settings.endpoints[0].port = proxy->port();
    o.settings.connect_timeout = std::chrono::milliseconds(200);
    o.confirm_timeout = std::chrono::seconds(2);
    o.on_connect = [t](Connection& c) { t.declare(c); };
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());
    proxy.reset();  // the connection is cut and nothing listens any more

    const int kBatches = 50;
    std::vector<std::atomic<int>> answered(kBatches);
    std::atomic<int> ok{0};
    std::atomic<int> done{0};
    for (int i = 0; i < kBatches; ++i) {
        std::vector<Message> ms;
        for (int k = 0; k < 5; ++k)
            ms.push_back(batchable(t, "events", "u" + std::to_string(i) + "." + std::to_string(k)));
        p.submit(std::move(ms), [&, i](PublishOutcome r) {
            ++answered[static_cast<std::size_t>(i)];
            ok += r.ok ? 1 : 0;
            ++done;
        });
    }
    for (int i = 0; i < 200 && done.load() < kBatches; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(done.load() == kBatches);
    CHECK(ok.load() == 0);
    CHECK(std::all_of(answered.begin(), answered.end(), [](const auto& a) { return a == 1; }));
    p.stop();
    CHECK(std::all_of(answered.begin(), answered.end(), [](const auto& a) { return a == 1; }));
}

TEST_CASE("ConnectionSink: a batch's opted-in messages go as one array under one confirm") {
    const ScopedTopology scoped{unique("amqptest")};
    const Topology& t = scoped.t;
    Connection c(server());
    t.declare(c);
    c.enable_confirms();
    ConnectionSink sink(c);
    std::vector<Message> out;
    for (int i = 0; i < 5; ++i)
        out.push_back(batchable(t, "notifications", "n" + std::to_string(i)));
    out.push_back(to(t, "notifications", R"({"id":"reply"})", "reply"));  // stays single
    sink.publish_confirmed(out);
    const Drained d = drain(t.queue("notifications"), 6);
    CHECK(d.ids.size() == 6);
    CHECK(d.messages == 2);
}

TEST_CASE("ConfirmingPublisher: a nacked combined message fails every request in it") {
    const std::string q = unique("amqptest-full");
    {
        Connection admin(server());
        admin.declare_queue(QueueSpec{q, false, "", "", 0, 0, 1});
        admin.enable_confirms();
        Message m;
        m.routing_key = q;  // the default exchange
        m.body = "{}";
        admin.publish_confirmed({m}, std::chrono::seconds(5));  // the queue is full now
    }
    ConfirmingPublisher::Options o;
    o.settings = server();
    ConfirmingPublisher p(o);
    p.start();
    for (int i = 0; i < 100 && !p.connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(p.connected());
    auto message = [&](const std::string& id) {
        Message m;
        m.routing_key = q;
        m.body = nlohmann::json{{"id", id}}.dump();
        m.message_id = id;
        m.batch_type = "full";
        return m;
    };
    std::promise<PublishOutcome> a;
    std::promise<PublishOutcome> b;
    p.submit({message("a1"), message("a2")}, [&](PublishOutcome r) { a.set_value(std::move(r)); });
    p.submit({message("b1")}, [&](PublishOutcome r) { b.set_value(std::move(r)); });
    const PublishOutcome ra = a.get_future().get();
    const PublishOutcome rb = b.get_future().get();
    CHECK_FALSE(ra.ok);
    CHECK(ra.error.find("nack") != std::string::npos);
    CHECK_FALSE(rb.ok);
    CHECK(rb.error.find("nack") != std::string::npos);
    CHECK(p.stats().coalesced >= 2);  // a1 and a2 at least travelled as one
    p.stop();
    Connection c(server());
    c.delete_queue(q);
}
