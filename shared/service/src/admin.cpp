#include <boost/beast/http/field.hpp>

#include <sonae/service/admin.hpp>

namespace sonae::service {

namespace bhttp = boost::beast::http;

http::Response metrics_response(const metrics::Registry& registry, unsigned version) {
    http::Response res{http::Status::ok, version};
    res.set(bhttp::field::content_type, metrics::kContentType);
    res.body() = registry.render();
    res.prepare_payload();
    return res;
}

namespace {

http::ServerOptions admin_options(std::string address, std::uint16_t port) {
    http::ServerOptions o;
    o.address = std::move(address);
    o.port = port;
    o.max_body = 4096;  // nothing here takes a body
    o.max_connections = 64;
    return o;
}

}  // namespace

AdminServer::AdminServer(std::string address, std::uint16_t port, const metrics::Registry& registry)
    : registry_(registry),
      server_(ioc_, admin_options(std::move(address), port),
              [this](http::Request& req) { return handle(req); }) {}

AdminServer::~AdminServer() {
    stop();
}

void AdminServer::start() {
    server_.start();
    thread_ = std::thread([this] { ioc_.run(); });
}

void AdminServer::stop() {
    if (!thread_.joinable())
        return;
    server_.stop();
    ioc_.stop();
    thread_.join();
}

boost::asio::awaitable<http::Response> AdminServer::handle(http::Request& req) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != bhttp::verb::get) {
        auto res = http::error_response(http::Status::method_not_allowed, "method_not_allowed",
                                        "use GET", "", req.version());
        res.set(bhttp::field::allow, "GET");
        co_return res;
    }
    if (path == "/metrics")
        co_return metrics_response(registry_, req.version());
    if (path == "/healthz")
        co_return http::json_response(http::Status::ok, R"({"status":"ok"})", req.version());
    co_return http::error_response(http::Status::not_found, "not_found", "no such endpoint", "",
                                   req.version());
}

}  // namespace sonae::service
