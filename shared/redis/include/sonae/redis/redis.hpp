// A synchronous Redis client over hiredis. One Connection belongs to one thread. After any I/O
// error the hiredis context is discarded; the next call reconnects. Scripts run by SHA and are
// loaded again when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
// rediss:// is TLS through OpenSSL on the hiredis context's socket (Debian's hiredis 0.14 has no
// TLS of its own): hiredis still formats commands and parses replies, OpenSSL moves the bytes.
// With Sentinels in the settings, every connect asks them for the master's address and checks
// that the server there says it is the master (ROLE), and a connection asks them again once a
// second; a master they no longer name, or an error reply READONLY (the server was demoted to a
// replica under us), drops the connection as an IoError, so that the caller's retry reconnects
// to the promoted replica. Optionally a script's writes count only once replicas have them
// (Settings::wait_replicas).
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sonae/core/result.hpp>

struct redisContext;
struct redisReply;
struct ssl_st;
struct ssl_ctx_st;

namespace sonae::redis {

struct Endpoint {
    std::string host;
    int port = 0;
};

struct Settings {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string password;
    int db = 0;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{5000};
    // rediss://: TLS 1.2 or later, the server's certificate verified against `ca_file` (PEM;
    // empty: the system's trust store) and its name or IP address against `host`.
    bool tls = false;
    std::string ca_file;
    // Redis Sentinels (SONAE_REDIS_SENTINELS): when not empty they name the master's address and
    // `host`/`port` are not used. Each is asked in turn, with `sentinel_timeout` to connect and
    // answer; `tls` applies to them too.
    std::vector<Endpoint> sentinels;
    std::string sentinel_master = "sonae";  // SONAE_REDIS_SENTINEL_MASTER
    std::chrono::milliseconds sentinel_timeout{500};
    // How often a connection asks a Sentinel whether its server is still the master: after a
    // failover the old master takes writes (lost later) until Sentinel demotes it, seconds later.
    std::chrono::milliseconds sentinel_recheck{1000};
    // SONAE_REDIS_WAIT_REPLICAS: after each script (the transactions) WAIT until this many
    // replicas have it, so that a failover cannot lose what was acknowledged. When fewer answer
    // within `wait_timeout`, the Sentinels decide: the write stands while they name this server
    // and no failover is under way (a replica down must not stop the service), otherwise the
    // connection is dropped as an IoError and the caller retries on the new master.
    // After the Sentinels confirmed a write that fewer replicas had, writes within the next
    // `sentinel_recheck` do not wait (a replica down costs one wait a second, not one a write).
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{200};

    // redis://[:password@]host[:port][/db], or rediss:// for TLS.
    static core::Result<Settings> parse(std::string_view url);
};

// Connection-level failures: the connection has been discarded.
class Error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};
class IoError : public Error {
    using Error::Error;
};
class TimeoutError : public IoError {
    using IoError::IoError;
};
class ProtocolError : public Error {
    using Error::Error;
};
// The server answered with an error (WRONGTYPE, a script's error_reply...): still connected.
class ReplyError : public Error {
    using Error::Error;
};

class Reply {
  public:
    enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };

    Reply() = default;
    static Reply from_hiredis(const redisReply* r);

    Type type() const { return type_; }
    bool is_nil() const { return type_ == Type::kNil; }
    bool is_error() const { return type_ == Type::kError; }
    // String, status or error text. Throws ProtocolError for other types.
    const std::string& str() const;
    long long integer() const;
    const std::vector<Reply>& elements() const&;
    // On a temporary reply the elements are moved out, so that
    // `for (auto& e : conn.command(...).elements())` does not read a destroyed reply.
    std::vector<Reply> elements() &&;

  private:
    Type type_ = Type::kNil;
    std::string str_;
    long long integer_ = 0;
    std::vector<Reply> elements_;
};

class Script {
  public:
    explicit Script(std::string source);
    const std::string& source() const { return source_; }
    const std::string& sha() const { return sha_; }

  private:
    std::string source_;
    std::string sha_;
};

class Connection {
  public:
    explicit Connection(Settings settings);
    ~Connection();
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Throws IoError/TimeoutError (connection dropped) or ReplyError (error reply).
    Reply command(const std::vector<std::string>& args);
    Reply command(std::initializer_list<std::string_view> args);
    // Sends all commands, then reads all replies; error replies come back as kError replies.
    std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);
    // EVALSHA with a NOSCRIPT fallback that loads the script and retries once.
    Reply eval(const Script& script, const std::vector<std::string>& keys,
               const std::vector<std::string>& args);
    // Several calls of one script in one round trip (same fallback); error replies come back as
    // kError replies, in order.
    struct EvalCall {
        std::vector<std::string> keys;
        std::vector<std::string> args;
    };
    std::vector<Reply> eval_all(const Script& script, const std::vector<EvalCall>& calls);

    // For a subscribed connection (after SUBSCRIBE): the next message the server pushes, or
    // nothing when none arrived within `timeout`. Throws like command() when the connection
    // fails; an error reply comes back as a kError reply.
    std::optional<Reply> poll_reply(std::chrono::milliseconds timeout);

    bool connected() const { return ctx_ != nullptr; }
    void disconnect();
    // No-op when connected; throws IoError when the server is unreachable or, with Sentinels, when
    // none of them names a master that answers as one.
    void connect();
    // host:port of the server connected to (with Sentinels: the master they named), or empty.
    const std::string& address() const { return address_; }

    const Settings& settings() const { return settings_; }

  private:
    struct ContextDeleter {
        void operator()(redisContext* c) const;
    };
    struct SslDeleter {
        void operator()(ssl_st* s) const;
    };
    [[noreturn]] void fail();
    [[noreturn]] void fail_tls(int rc, const char* what);
    void start_tls(int fd, const std::string& host, int port);
    void open(const std::string& host, int port);
    void login();
    void connect_through_sentinels();
    Reply ask_sentinel(std::size_t k, const std::vector<std::string>& command) const;
    void recheck();
    void replicated();
    void drop();
    static bool readonly(std::string_view error);
    [[noreturn]] void demoted(const std::string& error);
    Reply read_reply();

    Settings settings_;
    std::unique_ptr<redisContext, ContextDeleter> ctx_;
    std::shared_ptr<ssl_ctx_st> tls_context_;  // made at the first rediss:// connect
    std::unique_ptr<ssl_st, SslDeleter> tls_;  // after ctx_: freed before its socket is closed
    std::string address_;
    std::size_t next_sentinel_ = 0;  // the one that answered last is asked first
    std::chrono::steady_clock::time_point recheck_at_{};
    std::chrono::steady_clock::time_point unreplicated_until_{};  // see wait_replicas
};

}  // namespace sonae::redis
