#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <sonae/crypto/crypto.hpp>
#include <sonae/http/server.hpp>

namespace sonae::http {
namespace {

namespace bhttp = beast::http;
namespace ssl = asio::ssl;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

class ConnectionGuard {
  public:
    explicit ConnectionGuard(std::shared_ptr<std::atomic<std::size_t>> counter)
        : counter_(std::move(counter)) {}
    ~ConnectionGuard() { counter_->fetch_sub(1); }
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  private:
    std::shared_ptr<std::atomic<std::size_t>> counter_;
};

// The request loop of one connection, over a tcp_stream or a TLS stream on one. Timeouts are
// set on the TCP stream underneath (for TLS it is the lowest layer).
template <typename Stream>
asio::awaitable<void> serve(Stream& stream, const ServerOptions& options, const Handler& handler) {
    auto& tcp = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(options.max_body);
        parser.header_limit(static_cast<std::uint32_t>(options.max_header));
        // An idle keep-alive connection may wait longer for its next request than a request
        // may take to arrive once started; both are bounded.
        tcp.expires_after(first ? options.read_timeout : options.idle_timeout);
        first = false;
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (ec) {
            Response res;
            if (ec == bhttp::error::body_limit) {
                res = error_response(
                    Status::payload_too_large, "payload_too_large",
                    "request body exceeds " + std::to_string(options.max_body) + " bytes");
            } else if (ec == bhttp::error::header_limit) {
                res = error_response(Status::request_header_fields_too_large, "headers_too_large",
                                     "request headers exceed the limit");
            } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
                       ec != beast::error::timeout && ec != asio::error::connection_reset &&
                       ec != asio::error::operation_aborted && ec != ssl::error::stream_truncated &&
                       n > 0) {
                res = error_response(Status::bad_request, "bad_request", "malformed HTTP request");
            } else {
                break;
            }
            res.keep_alive(false);
            res.prepare_payload();
            tcp.expires_after(options.write_timeout);
            co_await bhttp::async_write(stream, res, kTuple);
            break;
        }
        // The read deadline no longer applies while the handler works (it may await the broker).
        tcp.expires_never();
        Request req = parser.release();
        Response res;
        try {
            res = co_await handler(req);
        } catch (const std::exception& e) {
            spdlog::error("http handler failed: {}", e.what());
            res = error_response(Status::internal_server_error, "internal", "internal error", {},
                                 req.version());
        }
        // A handler may close the connection after its answer (a draining gateway does).
        const bool handler_closes =
            bhttp::token_list{res[bhttp::field::connection]}.exists("close");
        res.version(req.version());
        res.keep_alive(req.keep_alive() && !handler_closes);
        res.prepare_payload();
        tcp.expires_after(options.write_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
        if (wec || !res.keep_alive()) {
            break;
        }
    }
}

asio::awaitable<void> session(beast::tcp_stream stream, ServerOptions options, Handler handler,
                              std::shared_ptr<std::atomic<std::size_t>> active) {
    ConnectionGuard guard(std::move(active));
    co_await serve(stream, options, handler);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    // Lingering close: the peer may still be sending (a body past the limit, answered 413).
    // Closing with unread data resets the connection, and the reset can destroy the answer
    // before the peer reads it. Read and discard until the peer closes, for a second at most.
    stream.expires_after(std::chrono::seconds(1));
    std::array<char, 16384> discard{};
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(discard), kTuple);
        if (ec)
            break;
    }
    co_return;
}

asio::awaitable<void> tls_session(beast::tcp_stream tcp, ServerOptions options, Handler handler,
                                  std::shared_ptr<std::atomic<std::size_t>> active) {
    ConnectionGuard guard(std::move(active));
    const auto tls = options.tls;  // the context outlives the stream that uses it
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
    // A client that connects and says nothing (or speaks plain HTTP, or offers only TLS 1.1) is
    // dropped here, before any HTTP parsing.
    beast::get_lowest_layer(stream).expires_after(options.handshake_timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (hec) {
        spdlog::debug("tls handshake refused: {}", hec.message());
        co_return;
    }
    co_await serve(stream, options, handler);
    // close_notify, bounded: a peer that already went away ends this at once.
    beast::get_lowest_layer(stream).expires_after(options.write_timeout);
    co_await stream.async_shutdown(kTuple);
    co_return;
}

int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*user*/) {
    return 0;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert_chain_file,
                                               const std::string& key_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // Mozilla's "intermediate" list for TLS 1.2: ECDHE key exchange, AEAD ciphers only.
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    // An encrypted key is refused rather than prompting for its passphrase on a terminal.
    SSL_CTX_set_default_passwd_cb(native, no_passphrase);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(native, cert_chain_file.c_str()) != 1) {
        throw std::runtime_error("cannot use certificate chain " + cert_chain_file + ": " +
                                 crypto::openssl_errors());
    }
    if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(native) != 1) {
        const std::string errors = crypto::openssl_errors();
        // OpenSSL refuses a key that does not match the certificate while loading it: tell that
        // apart from a file that holds no usable key.
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(key_file.c_str(), "r"),
                                                      BIO_free);
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
            bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr,
            EVP_PKEY_free);
        ERR_clear_error();
        if (key) {
            throw std::runtime_error("private key " + key_file +
                                     " does not belong to certificate " + cert_chain_file);
        }
        throw std::runtime_error("cannot use private key " + key_file + ": " + errors);
    }
    return ctx;
}

nlohmann::json error_object(std::string_view code, const std::string& message,
                            const std::string& field) {
    return {{"code", code}, {"message", message}, {"field", field}};
}

std::string dump_json(const nlohmann::json& body) {
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response error_response(Status status, std::string_view code, const std::string& message,
                        const std::string& field, unsigned version) {
    return json_response(status, dump_json({{"error", error_object(code, message, field)}}),
                         version);
}

Response json_response(Status status, std::string body, unsigned version) {
    Response res{status, version};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

Server::Server(asio::io_context& ioc, ServerOptions options, Handler handler)
    : ioc_(ioc),
      options_(std::move(options)),
      handler_(std::move(handler)),
      acceptor_(asio::make_strand(ioc)),
      active_(std::make_shared<std::atomic<std::size_t>>(0)) {}

Server::~Server() = default;

void Server::start() {
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(options_.address), options_.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void Server::stop() {
    asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
    });
}

asio::awaitable<void> Server::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            spdlog::warn("accept: {}", ec.message());
            continue;
        }
        if (active_->load() >= options_.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);  // over the cap: refuse cheaply rather than queue
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true));
        active_->fetch_add(1);
        auto executor = socket.get_executor();
        if (options_.tls) {
            asio::co_spawn(
                executor,
                tls_session(beast::tcp_stream(std::move(socket)), options_, handler_, active_),
                asio::detached);
        } else {
            asio::co_spawn(
                executor,
                session(beast::tcp_stream(std::move(socket)), options_, handler_, active_),
                asio::detached);
        }
    }
}

}  // namespace sonae::http
