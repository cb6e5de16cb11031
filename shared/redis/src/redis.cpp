#include <cerrno>
#include <charconv>

#include <boost/url/parse.hpp>
#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/time.h>

#include <sonae/crypto/crypto.hpp>
#include <sonae/redis/redis.hpp>

namespace sonae::redis {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

std::string sha1_hex(const std::string& s) {
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : md) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0xF];
    }
    return out;
}

std::shared_ptr<ssl_ctx_st> make_tls_context(const std::string& ca_file) {
    ERR_clear_error();
    std::shared_ptr<ssl_ctx_st> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!ctx) {
        throw IoError("redis: cannot create a TLS context: " + crypto::openssl_errors());
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const int ok = ca_file.empty()
                       ? SSL_CTX_set_default_verify_paths(ctx.get())
                       : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
    if (ok != 1) {
        throw IoError("redis: cannot load the CA certificates " +
                      (ca_file.empty() ? std::string("of the system") : ca_file) + ": " +
                      crypto::openssl_errors());
    }
    return ctx;
}

}  // namespace

core::Result<Settings> Settings::parse(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || (parsed->scheme() != "redis" && parsed->scheme() != "rediss")) {
        return core::Error::invalid_field(
            "SONAE_REDIS_URL", "invalid Redis URL (want redis[s]://[:password@]host[:port][/db])");
    }
    Settings s;
    s.tls = parsed->scheme() == "rediss";
    if (!parsed->host().empty()) {
        s.host = parsed->host();
    }
    if (parsed->has_port()) {
        s.port = parsed->port_number();
    }
    if (parsed->has_password()) {
        s.password = parsed->password();
    }
    const std::string path = parsed->path();
    if (path.size() > 1) {
        int db = -1;
        const auto [end, ec] = std::from_chars(path.data() + 1, path.data() + path.size(), db);
        if (ec != std::errc{} || end != path.data() + path.size() || db < 0) {
            return core::Error::invalid_field("SONAE_REDIS_URL",
                                              "invalid Redis database number in URL");
        }
        s.db = db;
    }
    return s;
}

Reply Reply::from_hiredis(const redisReply* r) {
    Reply out;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            out.type_ = Type::kString;
            out.str_.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type_ = Type::kStatus;
            out.str_.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.type_ = Type::kError;
            out.str_.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type_ = Type::kInteger;
            out.integer_ = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type_ = Type::kArray;
            out.elements_.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) {
                out.elements_.push_back(from_hiredis(r->element[i]));
            }
            break;
        default:
            out.type_ = Type::kNil;
            break;
    }
    return out;
}

const std::string& Reply::str() const {
    if (type_ != Type::kString && type_ != Type::kStatus && type_ != Type::kError) {
        throw ProtocolError("Redis reply is not a string");
    }
    return str_;
}

long long Reply::integer() const {
    if (type_ != Type::kInteger) {
        throw ProtocolError("Redis reply is not an integer");
    }
    return integer_;
}

const std::vector<Reply>& Reply::elements() const& {
    if (type_ != Type::kArray) {
        throw ProtocolError("Redis reply is not an array");
    }
    return elements_;
}

std::vector<Reply> Reply::elements() && {
    if (type_ != Type::kArray) {
        throw ProtocolError("Redis reply is not an array");
    }
    return std::move(elements_);
}

Script::Script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}

void Connection::ContextDeleter::operator()(redisContext* c) const {
    redisFree(c);
}

void Connection::SslDeleter::operator()(ssl_st* s) const {
    SSL_free(s);
}

Connection::Connection(Settings settings) : settings_(std::move(settings)) {}
Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::drop() {
    tls_.reset();
    ctx_.reset();
}

void Connection::disconnect() {
    drop();
}

void Connection::connect() {
    if (ctx_) {
        return;
    }
    const timeval ct = to_timeval(settings_.connect_timeout);
    std::unique_ptr<redisContext, ContextDeleter> ctx(
        redisConnectWithTimeout(settings_.host.c_str(), settings_.port, ct));
    if (!ctx) {
        throw IoError("redis: cannot allocate context");
    }
    if (ctx->err != 0) {
        throw IoError("redis: connect to " + settings_.host + ":" + std::to_string(settings_.port) +
                      ": " + ctx->errstr);
    }
    if (settings_.tls) {
        // The handshake is bounded by the connect timeout, commands by the command timeout.
        if (redisSetTimeout(ctx.get(), to_timeval(settings_.connect_timeout)) != REDIS_OK) {
            throw IoError("redis: cannot set socket timeout");
        }
        start_tls(ctx->fd);  // tls_ is set only when the handshake succeeded
    }
    if (redisSetTimeout(ctx.get(), to_timeval(settings_.command_timeout)) != REDIS_OK) {
        tls_.reset();
        throw IoError("redis: cannot set socket timeout");
    }
    ctx_ = std::move(ctx);
    if (!settings_.password.empty()) {
        command({"AUTH", settings_.password});
    }
    if (settings_.db != 0) {
        command({"SELECT", std::to_string(settings_.db)});
    }
}

void Connection::start_tls(int fd) {
    if (!tls_context_) {
        tls_context_ = make_tls_context(settings_.ca_file);
    }
    ERR_clear_error();
    std::unique_ptr<ssl_st, SslDeleter> ssl(SSL_new(tls_context_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
        throw IoError("redis: cannot start TLS: " + crypto::openssl_errors());
    }
    // The certificate must name the host we asked for: its IP address, or its DNS name (also
    // sent as SNI).
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), settings_.host.c_str()) != 1) {
        ERR_clear_error();
        // SSL_set_tlsext_host_name, without the macro's C cast.
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(settings_.host.c_str()));
        if (SSL_set1_host(ssl.get(), settings_.host.c_str()) != 1) {
            throw IoError("redis: cannot verify TLS host name " + settings_.host);
        }
    }
    const int rc = SSL_connect(ssl.get());
    if (rc != 1) {
        const std::string where =
            "redis: TLS handshake with " + settings_.host + ":" + std::to_string(settings_.port);
        const long verify = SSL_get_verify_result(ssl.get());
        if (verify != X509_V_OK) {
            throw IoError(where + ": server certificate not trusted: " +
                          X509_verify_cert_error_string(verify) +
                          (settings_.ca_file.empty() ? std::string(" (CA: the system's)")
                                                     : " (CA: " + settings_.ca_file + ")"));
        }
        const int err = SSL_get_error(ssl.get(), rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            throw TimeoutError(where + ": timeout");
        }
        throw IoError(
            where + ": " +
            (err == SSL_ERROR_SSL ? crypto::openssl_errors() : std::string("connection closed")));
    }
    tls_ = std::move(ssl);
}

void Connection::fail_tls(int rc, const char* what) {
    const int err = SSL_get_error(tls_.get(), rc);
    const bool timeout = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
    std::string detail = err == SSL_ERROR_SSL ? crypto::openssl_errors() : "connection closed";
    drop();
    if (timeout) {
        throw TimeoutError(std::string("redis: timeout: TLS ") + what);
    }
    throw IoError(std::string("redis: TLS ") + what + ": " + detail);
}

void Connection::fail() {
    const int err = ctx_ ? ctx_->err : REDIS_ERR_IO;
    const std::string what = ctx_ ? std::string(ctx_->errstr) : std::string("not connected");
    const bool timeout = err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    drop();
    if (timeout) {
        throw TimeoutError("redis: timeout: " + what);
    }
    if (err == REDIS_ERR_PROTOCOL) {
        throw ProtocolError("redis: protocol error: " + what);
    }
    throw IoError("redis: " + what);
}

Reply Connection::read_reply() {
    void* raw = nullptr;
    if (tls_) {
        // What hiredis would write to the socket goes through OpenSSL; what OpenSSL reads goes
        // to hiredis' reply parser. hiredis never touches the socket itself.
        const std::size_t pending = sdslen(ctx_->obuf);
        if (pending > 0) {
            ERR_clear_error();
            std::size_t written = 0;
            const int rc = SSL_write_ex(tls_.get(), ctx_->obuf, pending, &written);
            if (rc != 1) {
                fail_tls(rc, "write");
            }
            // sdsclear() without its symbol (sds.h declares it without C linkage for C++).
            sdssetlen(ctx_->obuf, 0);
            ctx_->obuf[0] = '\0';
        }
        for (;;) {
            if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) {
                fail();
            }
            if (raw != nullptr) {
                break;
            }
            char buf[16 * 1024];
            std::size_t n = 0;
            ERR_clear_error();
            const int rc = SSL_read_ex(tls_.get(), buf, sizeof buf, &n);
            if (rc != 1) {
                fail_tls(rc, "read");
            }
            redisReaderFeed(ctx_->reader, buf, n);
        }
    } else if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
        fail();
    }
    auto* r = static_cast<redisReply*>(raw);
    Reply out = Reply::from_hiredis(r);
    freeReplyObject(r);
    return out;
}

std::optional<Reply> Connection::poll_reply(std::chrono::milliseconds timeout) {
    if (!ctx_) {
        throw IoError("redis: not connected");
    }
    // A reply hiredis (or OpenSSL) has buffered already is read without waiting.
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) {
        fail();
    }
    if (raw != nullptr) {
        auto* r = static_cast<redisReply*>(raw);
        Reply out = Reply::from_hiredis(r);
        freeReplyObject(r);
        return out;
    }
    if (!tls_ || SSL_pending(tls_.get()) == 0) {
        pollfd p{ctx_->fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (n == 0 || (n < 0 && errno == EINTR)) {
            return std::nullopt;
        }
        if (n < 0) {
            fail();
        }
    }
    return read_reply();  // something arrived (or the peer closed: read_reply throws)
}

Reply Connection::command(const std::vector<std::string>& args) {
    connect();
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
        fail();
    }
    Reply r = read_reply();
    if (r.is_error()) {
        throw ReplyError(r.str());
    }
    return r;
}

Reply Connection::command(std::initializer_list<std::string_view> args) {
    std::vector<std::string> v;
    v.reserve(args.size());
    for (auto a : args) {
        v.emplace_back(a);
    }
    return command(v);
}

std::vector<Reply> Connection::pipeline(const std::vector<std::vector<std::string>>& commands) {
    connect();
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& args : commands) {
        argv.clear();
        lens.clear();
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                                   lens.data()) != REDIS_OK) {
            fail();
        }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        replies.push_back(read_reply());
    }
    return replies;
}

namespace {

std::vector<std::string> evalsha(const Script& script, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) {
    std::vector<std::string> cmd;
    cmd.reserve(3 + keys.size() + args.size());
    cmd.emplace_back("EVALSHA");
    cmd.push_back(script.sha());
    cmd.push_back(std::to_string(keys.size()));
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
}

bool noscript(std::string_view error) {
    return error.rfind("NOSCRIPT", 0) == 0;
}

}  // namespace

std::vector<Reply> Connection::eval_all(const Script& script, const std::vector<EvalCall>& calls) {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(calls.size());
    for (const auto& c : calls)
        commands.push_back(evalsha(script, c.keys, c.args));
    std::vector<Reply> replies = pipeline(commands);
    // A call refused with NOSCRIPT did not run: load the script and send those again.
    std::vector<std::size_t> again;
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (replies[i].is_error() && noscript(replies[i].str()))
            again.push_back(i);
    }
    if (again.empty())
        return replies;
    command({"SCRIPT", "LOAD", script.source()});
    std::vector<std::vector<std::string>> resend;
    for (std::size_t i : again)
        resend.push_back(std::move(commands[i]));
    std::vector<Reply> second = pipeline(resend);
    for (std::size_t k = 0; k < again.size(); ++k)
        replies[again[k]] = std::move(second[k]);
    return replies;
}

Reply Connection::eval(const Script& script, const std::vector<std::string>& keys,
                       const std::vector<std::string>& args) {
    const std::vector<std::string> cmd = evalsha(script, keys, args);
    try {
        return command(cmd);
    } catch (const ReplyError& e) {
        if (!noscript(e.what())) {
            throw;
        }
    }
    command({"SCRIPT", "LOAD", script.source()});
    return command(cmd);
}

}  // namespace sonae::redis
