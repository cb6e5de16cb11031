// An HTTP/1.1 server on Boost.Beast: one coroutine per connection on its own strand, a timeout
// before every read (slowloris), header and body limits, a connection cap, keep-alive; HTTPS
// instead of HTTP when given a TLS context (TLS 1.2 or later, a deadline on the handshake).
// Request handling is a plain coroutine from request to response, testable without sockets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

namespace boost::asio::ssl {
class context;
}

namespace sonae::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using Request = beast::http::request<beast::http::string_body>;
using Response = beast::http::response<beast::http::string_body>;
using Status = beast::http::status;
using Handler = std::function<asio::awaitable<Response>(Request&)>;

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 picks a free port
    std::size_t max_body = 1024 * 1024;
    std::size_t max_header = 16 * 1024;
    std::size_t max_connections = 4096;
    std::chrono::milliseconds read_timeout{10000};  // whole request, from its first byte
    std::chrono::milliseconds idle_timeout{60000};  // between keep-alive requests
    std::chrono::milliseconds write_timeout{10000};
    // HTTPS only when set (make_tls_context); plain HTTP otherwise.
    std::shared_ptr<asio::ssl::context> tls{};
    std::chrono::milliseconds handshake_timeout{10000};
};

// A TLS server context from a PEM certificate chain (the certificate first, then any
// intermediates) and its PEM private key: TLS 1.2 or later, forward-secret AEAD ciphers for
// TLS 1.2, OpenSSL's defaults for TLS 1.3. Throws std::runtime_error naming the file that cannot
// be used, or saying that the key does not belong to the certificate.
std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& cert_chain_file,
                                                     const std::string& key_file);

// Builds a JSON response with the given body text.
Response json_response(Status status, std::string body, unsigned version = 11);
// sonae's one error body, {"error":{"code","message","field"}} (PRODUCT §3). Bytes of the
// message that are not UTF-8 (quoted from a request) are replaced, never a reason to throw.
Response error_response(Status status, std::string_view code, const std::string& message,
                        const std::string& field = {}, unsigned version = 11);
// The {"code","message","field"} object inside it, for bodies that wrap it (PagerDuty's shape).
nlohmann::json error_object(std::string_view code, const std::string& message,
                            const std::string& field);
// A JSON body as text, replacing bytes that are not UTF-8.
std::string dump_json(const nlohmann::json& body);

class Server {
  public:
    Server(asio::io_context& ioc, ServerOptions options, Handler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();  // binds and listens; throws std::system_error when the address is taken
    void stop();   // stops accepting; open connections finish their current request
    std::uint16_t port() const { return port_; }
    std::size_t active_connections() const { return active_->load(); }

  private:
    asio::awaitable<void> accept_loop();

    asio::io_context& ioc_;
    ServerOptions options_;
    Handler handler_;
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::shared_ptr<std::atomic<std::size_t>> active_;
};

}  // namespace sonae::http
