// The HTTP clients against an in-process server on loopback: requests run concurrently, a
// hanging receiver only holds its own request until its timeout, and the extra descriptor wakes
// the wait.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>
#include <unistd.h>

#include <sonae/http/client.hpp>
#include <sonae/http/server.hpp>

using namespace sonae;
namespace asio = boost::asio;

namespace {

// A server whose /hang answers after 30 s, whose /close closes the connection after its answer,
// and whose other paths answer at once with their path.
struct LocalServer {
    asio::io_context ioc;
    http::Server server{ioc, http::ServerOptions{"127.0.0.1", 0},
                        [](http::Request& req) -> asio::awaitable<http::Response> {
                            if (req.target() == "/hang") {
                                asio::steady_timer t(co_await asio::this_coro::executor,
                                                     std::chrono::seconds(30));
                                co_await t.async_wait(asio::use_awaitable);
                            }
                            http::Response res{http::Status::ok, req.version()};
                            res.set("x-echo", std::string(req.target()));
                            res.body() = req.body();
                            if (req.target() == "/close")
                                res.keep_alive(false);
                            co_return res;
                        }};
    std::thread thread;
    LocalServer() {
        server.start();
        thread = std::thread([this] { ioc.run(); });
    }
    ~LocalServer() {
        ioc.stop();
        thread.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(server.port()) + path;
    }
};

}  // namespace

TEST_CASE("a hanging receiver holds only its own request, which times out") {
    LocalServer srv;
    http::AsyncClient client;
    std::vector<std::string> order;
    http::ClientResponse hung;
    client.start({"POST", srv.url("/hang"), {}, "x", std::chrono::milliseconds(1500)},
                 [&](http::ClientResponse r) {
                     order.push_back("hang");
                     hung = std::move(r);
                 });
    for (int i = 0; i < 5; ++i) {
        client.start({"POST",
                      srv.url("/fast" + std::to_string(i)),
                      {{"X-A", "b"}},
                      "body",
                      std::chrono::milliseconds(5000)},
                     [&, i](http::ClientResponse r) {
                         CHECK(r.status == 200);
                         CHECK(r.body == "body");
                         CHECK(r.headers.at("x-echo") == "/fast" + std::to_string(i));
                         order.push_back("fast");
                     });
    }
    CHECK(client.running() == 6);
    const auto start = std::chrono::steady_clock::now();
    while (client.running() > 1 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        client.wait(-1, std::chrono::milliseconds(50));
    CHECK(order == std::vector<std::string>(5, "fast"));  // all done while /hang still hangs
    while (client.running() > 0 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
        client.wait(-1, std::chrono::milliseconds(50));
    REQUIRE(order.size() == 6);
    CHECK(order.back() == "hang");
    CHECK(hung.status == 0);
    CHECK_FALSE(hung.error.empty());
}

TEST_CASE("wait() returns when the extra descriptor becomes readable") {
    http::AsyncClient client;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        CHECK(::write(fds[1], "x", 1) == 1);
    });
    const auto start = std::chrono::steady_clock::now();
    client.wait(fds[0], std::chrono::milliseconds(10000));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    writer.join();
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("the blocking client and refused connections") {
    LocalServer srv;
    http::Client client;
    auto ok = client.request("PUT", srv.url("/x"), {}, "hello", std::chrono::milliseconds(5000));
    CHECK(ok.status == 200);
    CHECK(ok.body == "hello");
    auto refused =
        client.request("POST", "http://127.0.0.1:1/", {}, "", std::chrono::milliseconds(2000));
    CHECK(refused.status == 0);
    CHECK_FALSE(refused.error.empty());
    auto bad_scheme =
        client.request("GET", "file:///etc/passwd", {}, "", std::chrono::milliseconds(2000));
    CHECK(bad_scheme.status == 0);
}

TEST_CASE("a handler's Connection: close ends the connection after its answer") {
    LocalServer srv;
    http::Client client;
    const auto kept = client.request("GET", srv.url("/x"), {}, "", std::chrono::seconds(5));
    CHECK(kept.status == 200);
    CHECK(kept.headers.count("connection") == 0);
    CHECK(srv.server.active_connections() == 1);  // the client keeps it for the next request
    const auto closed = client.request("GET", srv.url("/close"), {}, "", std::chrono::seconds(5));
    CHECK(closed.status == 200);
    CHECK(closed.headers.at("connection") == "close");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (srv.server.active_connections() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(srv.server.active_connections() == 0);
    // The client reconnects for the next request.
    CHECK(client.request("GET", srv.url("/y"), {}, "", std::chrono::seconds(5)).status == 200);
}
