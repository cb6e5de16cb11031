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

// The master as a Sentinel sees it (SENTINEL MASTER: field names and values in turn). Its flags
// are "master" alone unless it is thought down or a failover is under way.
struct Named {
    std::string ip, port, flags;
};

Named named(const Reply& r) {
    Named m;
    const auto& kv = r.elements();
    for (std::size_t f = 0; f + 1 < kv.size(); f += 2) {
        const std::string& name = kv[f].str();
        if (name == "ip")
            m.ip = kv[f + 1].str();
        else if (name == "port")
            m.port = kv[f + 1].str();
        else if (name == "flags")
            m.flags = kv[f + 1].str();
    }
    return m;
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
    address_.clear();
    unreplicated_until_ = {};
}

void Connection::disconnect() {
    drop();
}

void Connection::connect() {
    if (ctx_) {
        return;
    }
    if (!settings_.sentinels.empty()) {
        connect_through_sentinels();
        return;
    }
    open(settings_.host, settings_.port);
    login();
}

void Connection::open(const std::string& host, int port) {
    const timeval ct = to_timeval(settings_.connect_timeout);
    std::unique_ptr<redisContext, ContextDeleter> ctx(
        redisConnectWithTimeout(host.c_str(), port, ct));
    if (!ctx) {
        throw IoError("redis: cannot allocate context");
    }
    if (ctx->err != 0) {
        throw IoError("redis: connect to " + host + ":" + std::to_string(port) + ": " +
                      ctx->errstr);
    }
    if (settings_.tls) {
        // The handshake is bounded by the connect timeout, commands by the command timeout.
        if (redisSetTimeout(ctx.get(), ct) != REDIS_OK) {
            throw IoError("redis: cannot set socket timeout");
        }
        start_tls(ctx->fd, host, port);  // tls_ is set only when the handshake succeeded
    }
    if (redisSetTimeout(ctx.get(), to_timeval(settings_.command_timeout)) != REDIS_OK) {
        tls_.reset();
        throw IoError("redis: cannot set socket timeout");
    }
    ctx_ = std::move(ctx);
    address_ = host + ":" + std::to_string(port);
    recheck_at_ = std::chrono::steady_clock::now() + settings_.sentinel_recheck;
}

void Connection::login() {
    if (!settings_.password.empty()) {
        command({"AUTH", settings_.password});
    }
    if (settings_.db != 0) {
        command({"SELECT", std::to_string(settings_.db)});
    }
}

// Each Sentinel in turn, starting with the one that answered last: the master's address, then
// that server must say it is the master (during a failover a Sentinel may still name the old one,
// dead or already demoted). With wait_replicas, also no failover may be under way: the old master
// still takes writes that the promoted replica will never have. One round; the caller's retry
// makes the next.
void Connection::connect_through_sentinels() {
    const auto& sentinels = settings_.sentinels;
    std::string errors;
    for (std::size_t i = 0; i < sentinels.size(); ++i) {
        const std::size_t k = (next_sentinel_ + i) % sentinels.size();
        const std::string name = sentinels[k].host + ":" + std::to_string(sentinels[k].port);
        try {
            const Named m =
                named(ask_sentinel(k, {"SENTINEL", "master", settings_.sentinel_master}));
            int port = 0;
            const auto [end, ec] =
                std::from_chars(m.port.data(), m.port.data() + m.port.size(), port);
            if (m.ip.empty() || ec != std::errc{} || end != m.port.data() + m.port.size()) {
                errors +=
                    "; sentinel " + name + ": no address for '" + settings_.sentinel_master + "'";
                continue;
            }
            if (settings_.wait_replicas > 0 && m.flags != "master") {
                errors += "; sentinel " + name + ": " + m.ip + ":" + m.port + " is " + m.flags;
                continue;
            }
            open(m.ip, port);
            login();
            const Reply role = command({"ROLE"});
            if (role.type() != Reply::Type::kArray || role.elements().empty() ||
                role.elements()[0].str() != "master") {
                drop();
                errors += "; sentinel " + name + " names " + m.ip + ":" + m.port +
                          ", which is not the master (yet)";
                continue;
            }
            next_sentinel_ = k;
            return;
        } catch (const Error& e) {
            drop();
            errors += "; sentinel " + name + ": " + e.what();
        }
    }
    throw IoError("redis: no master '" + settings_.sentinel_master + "' from the Sentinels" +
                  errors);
}

// A Sentinel is asked as a server of its own: the same TLS, no password or database, short
// timeouts.
Reply Connection::ask_sentinel(std::size_t k, const std::vector<std::string>& command) const {
    Settings s;
    s.host = settings_.sentinels[k].host;
    s.port = settings_.sentinels[k].port;
    s.tls = settings_.tls;
    s.ca_file = settings_.ca_file;
    s.connect_timeout = s.command_timeout = settings_.sentinel_timeout;
    Connection sentinel(std::move(s));
    sentinel.tls_context_ = tls_context_;  // the CA bundle loaded once, not at every recheck
    return sentinel.command(command);
}

// With Sentinels, now and then: is the server still the master they name (and, with
// wait_replicas, is no failover under way)? If not, the connection is dropped as an IoError, as
// after any failure: the caller's retry reconnects to the master named now (and a subscriber
// subscribes again).
void Connection::recheck() {
    if (settings_.sentinels.empty() || !ctx_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < recheck_at_) {
        return;
    }
    recheck_at_ = now + settings_.sentinel_recheck;
    for (std::size_t i = 0; i < settings_.sentinels.size(); ++i) {
        const std::size_t k = (next_sentinel_ + i) % settings_.sentinels.size();
        Named m;
        try {
            m = named(ask_sentinel(k, {"SENTINEL", "master", settings_.sentinel_master}));
        } catch (const Error&) {
            continue;  // the next Sentinel; none answering leaves the connection as it is
        }
        next_sentinel_ = k;
        if (m.ip + ":" + m.port != address_ ||
            (settings_.wait_replicas > 0 && m.flags != "master")) {
            const std::string was = address_;
            drop();
            throw IoError("redis: Sentinel says the master is " + m.ip + ":" + m.port + " (" +
                          m.flags + "), not " + was);
        }
        return;
    }
}

// After a script, with wait_replicas: the write counts once that many replicas have it. Fewer
// within wait_timeout means a replica down or slow, or a failover under way (the promoted replica
// no longer follows this server, which takes writes until Sentinel demotes it, seconds later).
// Only the Sentinels can tell: while one names this server as a healthy master the write stands;
// otherwise it is not acknowledged (it will vanish with the demotion) and the caller's retry
// reconnects.
void Connection::replicated() {
    const int want = settings_.wait_replicas;
    if (want <= 0 || std::chrono::steady_clock::now() < unreplicated_until_) {
        return;
    }
    const long long acked =
        command({"WAIT", std::to_string(want), std::to_string(settings_.wait_timeout.count())})
            .integer();
    if (acked >= want) {
        return;
    }
    std::string why = "no Sentinel says it is still the master";
    for (std::size_t i = 0; i < settings_.sentinels.size(); ++i) {
        const std::size_t k = (next_sentinel_ + i) % settings_.sentinels.size();
        try {
            const Named m =
                named(ask_sentinel(k, {"SENTINEL", "master", settings_.sentinel_master}));
            next_sentinel_ = k;
            if (m.ip + ":" + m.port == address_ && m.flags == "master") {
                // A replica is down or behind: the write stands, replicated later.
                unreplicated_until_ = std::chrono::steady_clock::now() + settings_.sentinel_recheck;
                return;
            }
            why = "Sentinel says the master is " + m.ip + ":" + m.port + " (" + m.flags + ")";
            break;
        } catch (const Error&) {
            // the next Sentinel
        }
    }
    const std::string was = address_;
    drop();
    throw IoError("redis: a write on " + was + " reached " + std::to_string(acked) + " of " +
                  std::to_string(want) + " replicas and " + why + ": not acknowledged");
}

void Connection::start_tls(int fd, const std::string& host, int port) {
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
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str()) != 1) {
        ERR_clear_error();
        // SSL_set_tlsext_host_name, without the macro's C cast.
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str()));
        if (SSL_set1_host(ssl.get(), host.c_str()) != 1) {
            throw IoError("redis: cannot verify TLS host name " + host);
        }
    }
    const int rc = SSL_connect(ssl.get());
    if (rc != 1) {
        const std::string where = "redis: TLS handshake with " + host + ":" + std::to_string(port);
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

bool Connection::readonly(std::string_view error) {
    return error.rfind("READONLY", 0) == 0;
}

// A write refused by a replica: the server we hold was demoted (a failover). Nothing was written;
// the connection is dropped so that the caller's retry reconnects to the new master.
void Connection::demoted(const std::string& error) {
    const std::string was = address_;
    drop();
    throw IoError("redis: " + was + " is no longer the master: " + error);
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
    recheck();
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
        if (readonly(r.str())) {
            demoted(r.str());
        }
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
    recheck();
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
    for (const auto& r : replies) {
        if (r.is_error() && readonly(r.str())) {
            demoted(r.str());
        }
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
    if (!again.empty()) {
        command({"SCRIPT", "LOAD", script.source()});
        std::vector<std::vector<std::string>> resend;
        for (std::size_t i : again)
            resend.push_back(std::move(commands[i]));
        std::vector<Reply> second = pipeline(resend);
        for (std::size_t k = 0; k < again.size(); ++k)
            replies[again[k]] = std::move(second[k]);
    }
    replicated();
    return replies;
}

Reply Connection::eval(const Script& script, const std::vector<std::string>& keys,
                       const std::vector<std::string>& args) {
    const std::vector<std::string> cmd = evalsha(script, keys, args);
    Reply r;
    try {
        r = command(cmd);
    } catch (const ReplyError& e) {
        if (!noscript(e.what())) {
            throw;
        }
        command({"SCRIPT", "LOAD", script.source()});
        r = command(cmd);
    }
    replicated();
    return r;
}

}  // namespace sonae::redis
