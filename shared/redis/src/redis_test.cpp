// The Redis wrapper's error paths, against the throwaway server of scripts/test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdlib>

#include <boost/asio/ip/tcp.hpp>
#include <doctest/doctest.h>
#include <unistd.h>

#include <sonae/redis/redis.hpp>

using namespace sonae::redis;

namespace {

Settings server() {
    const char* url = std::getenv("SONAE_TEST_REDIS_URL");
    if (url == nullptr)
        FAIL("SONAE_TEST_REDIS_URL is not set: run scripts/test");
    return Settings::parse(url).value();
}

int unused_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();  // closed again when `a` goes: nothing listens there
}

}  // namespace

TEST_CASE("URLs") {
    const Settings s = Settings::parse("redis://:secret@10.0.0.5:6380/3").value();
    CHECK(s.host == "10.0.0.5");
    CHECK(s.port == 6380);
    CHECK(s.password == "secret");
    CHECK(s.db == 3);
    CHECK(Settings::parse("redis://localhost")->port == 6379);
    CHECK(Settings::parse("http://localhost").error().field == "SONAE_REDIS_URL");
    CHECK_FALSE(Settings::parse("redis://h/notanumber"));
}

TEST_CASE("an unreachable server is an IoError, and the connection can be tried again") {
    Settings s;
    s.port = unused_port();
    s.connect_timeout = std::chrono::milliseconds(300);
    Connection c(s);
    CHECK_THROWS_AS(c.command({"PING"}), IoError);
    CHECK_FALSE(c.connected());
    CHECK_THROWS_AS(c.command({"PING"}), IoError);
}

TEST_CASE("typed replies, error replies, and the connection stays usable") {
    Connection c(server());
    const std::string key = "redis-test:" + std::to_string(std::rand());
    CHECK(c.command({"SET", key, "v"}).str() == "OK");
    CHECK(c.command({"GET", key}).str() == "v");
    CHECK(c.command({"GET", key + ":none"}).is_nil());
    CHECK(c.command({"INCR", key + ":n"}).integer() == 1);
    CHECK_THROWS_AS(c.command({"LPUSH", key, "x"}), ReplyError);  // WRONGTYPE
    CHECK(c.connected());
    CHECK(c.command({"PING"}).str() == "PONG");
    CHECK_THROWS_AS(c.command({"GET", key}).integer(), ProtocolError);  // a string, not an integer
    // The elements of a temporary reply outlive it in a range-for (ASan would see it otherwise).
    c.command({"DEL", key + ":l"});  // std::rand() repeats from run to run
    c.command({"RPUSH", key + ":l", "a", "b", "c"});
    std::string joined;
    for (const auto& e : c.command({"LRANGE", key + ":l", "0", "-1"}).elements())
        joined += e.str();
    CHECK(joined == "abc");
    c.command({"DEL", key + ":l"});
    auto replies = c.pipeline({{"GET", key}, {"LPUSH", key, "x"}, {"DEL", key, key + ":n"}});
    REQUIRE(replies.size() == 3);
    CHECK(replies[0].str() == "v");
    CHECK(replies[1].is_error());
    CHECK(replies[2].integer() == 2);
}

TEST_CASE("scripts run by SHA and are loaded again after SCRIPT FLUSH") {
    Connection c(server());
    const Script add("return tonumber(ARGV[1]) + tonumber(ARGV[2])");
    CHECK(c.eval(add, {}, {"2", "3"}).integer() == 5);
    c.command({"SCRIPT", "FLUSH"});
    CHECK(c.eval(add, {}, {"4", "5"}).integer() == 9);  // NOSCRIPT -> SCRIPT LOAD -> retry
    const Script failing("return redis.error_reply('NOPE refused')");
    CHECK_THROWS_WITH_AS(c.eval(failing, {}, {}), "NOPE refused", ReplyError);
}

TEST_CASE("a command past its deadline is a TimeoutError, the next call reconnects") {
    Settings s = server();
    s.command_timeout = std::chrono::milliseconds(200);
    Connection c(s);
    CHECK_THROWS_AS(c.command({"BLPOP", "redis-test:never", "2"}), TimeoutError);
    CHECK_FALSE(c.connected());
    CHECK(c.command({"PING"}).str() == "PONG");
}

TEST_CASE("a connection the server closed fails once, then reconnects") {
    Connection victim(server());
    Connection admin(server());
    const std::string id = std::to_string(victim.command({"CLIENT", "ID"}).integer());
    // Only the victim: other tests share this server and run at the same time.
    CHECK(admin.command({"CLIENT", "KILL", "ID", id}).integer() == 1);
    CHECK_THROWS_AS(victim.command({"PING"}), IoError);
    CHECK(victim.command({"PING"}).str() == "PONG");
}

TEST_CASE("a subscribed connection polls for pushed messages with a timeout") {
    Connection sub(server());
    Connection pub(server());
    const std::string channel = "poll-test:" + std::to_string(::getpid());
    const Reply ok = sub.command({"SUBSCRIBE", channel});
    REQUIRE(ok.elements().size() == 3);
    CHECK(ok.elements()[0].str() == "subscribe");
    CHECK_FALSE(sub.poll_reply(std::chrono::milliseconds(20)).has_value());  // nothing yet
    CHECK(pub.command({"PUBLISH", channel, "one"}).integer() == 1);
    CHECK(pub.command({"PUBLISH", channel, "two"}).integer() == 1);
    // Both arrive, in order; the second may already sit in hiredis' buffer.
    for (const char* expected : {"one", "two"}) {
        const auto m = sub.poll_reply(std::chrono::milliseconds(5000));
        REQUIRE(m.has_value());
        REQUIRE(m->elements().size() == 3);
        CHECK(m->elements()[0].str() == "message");
        CHECK(m->elements()[2].str() == expected);
    }
    CHECK_FALSE(sub.poll_reply(std::chrono::milliseconds(0)).has_value());
    sub.disconnect();
    CHECK_THROWS_AS(sub.poll_reply(std::chrono::milliseconds(0)), IoError);
}

TEST_CASE("READONLY, a write on a demoted master, drops the connection as an IoError") {
    Connection c(server());
    // A script stands in for a replica's refusal (the fault test sentinel_test meets a real
    // one).
    const Script demoted(
        "return redis.error_reply(\"READONLY You can't write against a read "
        "only replica.\")");
    CHECK_THROWS_AS(c.eval(demoted, {}, {}), IoError);
    CHECK_FALSE(c.connected());
    CHECK(c.command({"PING"}).str() == "PONG");
    // In a pipeline too: the other replies are not handed out as if the writes had happened.
    CHECK_THROWS_AS(c.eval_all(demoted, {{}, {}}), IoError);
    CHECK_FALSE(c.connected());
    // Any other error reply leaves the connection alone.
    const Script other("return redis.error_reply('NOTREADONLY nope')");
    CHECK_THROWS_AS(c.eval(other, {}, {}), ReplyError);
    CHECK(c.connected());
}

TEST_CASE("Sentinels that cannot name a master: an IoError naming each, then tried again") {
    Settings s;
    s.host = "192.0.2.1";  // never used with Sentinels
    const int nobody = unused_port();
    const Settings real = server();
    s.sentinels = {{"127.0.0.1", nobody}, {real.host, real.port}};  // a plain Redis: no SENTINEL
    s.sentinel_master = "city";
    s.sentinel_timeout = std::chrono::milliseconds(300);
    Connection c(s);
    try {
        c.command({"PING"});
        FAIL("connected without a master");
    } catch (const IoError& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("no master 'city'") != std::string::npos);
        CHECK(what.find("127.0.0.1:" + std::to_string(nobody)) != std::string::npos);
        CHECK(what.find(real.host + ":" + std::to_string(real.port)) != std::string::npos);
    }
    CHECK_FALSE(c.connected());
    CHECK(c.address().empty());
    CHECK_THROWS_AS(c.command({"PING"}), IoError);
}

TEST_CASE("wait_replicas: a script's write that no replica confirms is not acknowledged") {
    Settings s = server();  // scripts/test's server has no replica
    s.wait_replicas = 1;
    s.wait_timeout = std::chrono::milliseconds(50);
    Connection c(s);
    const std::string key = "redis-test:wait:" + std::to_string(std::rand());
    const Script set("return redis.call('SET', KEYS[1], ARGV[1])");
    // Without Sentinels nobody can say that the replica is merely down: an IoError.
    CHECK_THROWS_AS(c.eval(set, {key}, {"v"}), IoError);
    CHECK_FALSE(c.connected());
    CHECK_THROWS_AS(c.eval_all(set, {{{key}, {"w"}}}), IoError);
    s.wait_replicas = 0;
    Connection plain(s);
    CHECK(plain.eval(set, {key}, {"x"}).str() == "OK");
    plain.command({"DEL", key});
}
