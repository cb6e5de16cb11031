#include <cerrno>
#include <charconv>

#include <boost/url/parse.hpp>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <sys/time.h>

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

}  // namespace

core::Result<Settings> Settings::parse(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "redis") {
        return core::Error::invalid_field(
            "SONAE_REDIS_URL", "invalid Redis URL (want redis://[:password@]host[:port][/db])");
    }
    Settings s;
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

Connection::Connection(Settings settings) : settings_(std::move(settings)) {}
Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::disconnect() {
    ctx_.reset();
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
    if (redisSetTimeout(ctx.get(), to_timeval(settings_.command_timeout)) != REDIS_OK) {
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

void Connection::fail() {
    const int err = ctx_ ? ctx_->err : REDIS_ERR_IO;
    const std::string what = ctx_ ? std::string(ctx_->errstr) : std::string("not connected");
    const bool timeout = err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    ctx_.reset();
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
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
        fail();
    }
    auto* r = static_cast<redisReply*>(raw);
    Reply out = Reply::from_hiredis(r);
    freeReplyObject(r);
    return out;
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
