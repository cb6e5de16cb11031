// Test support for component and end-to-end tests: the environment scripts/test provides, child
// processes for the services, an HTTP receiver that can fail or hang, a broker sink that records,
// unique names, and polling helpers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/amqp/connection.hpp>
#include <sonae/amqp/sink.hpp>
#include <sonae/http/client.hpp>
#include <sonae/http/server.hpp>
#include <sonae/redis/redis.hpp>

namespace sonae::test {

struct TestEnv {
    std::string redis_url;
    std::string amqp_url;
    std::string bin_dir;
    std::string source_dir = SONAE_SOURCE_DIR;
    // Fails the test (with a hint) when scripts/test did not set the servers up.
    static TestEnv require();
};

std::string unique_name(const std::string& stem);
int free_port();
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
std::string make_temp_dir(const std::string& stem);
// A config directory for a Stack: one `generic` source (bearer `token`, no rate limit to speak
// of) and one webhook channel to `receiver_url` that gets every notification.
std::string write_webhook_config(const std::string& receiver_url, const std::string& token = "t");

// Runs `command` with /bin/sh; its stdout and stderr together, and its exit status (-1: killed).
struct ShellResult {
    int status = -1;
    std::string out;
};
ShellResult run_shell(const std::string& command);
// The same with stdout alone in `out` and stderr in `err` (output a test parses).
struct SplitResult {
    int status = -1;
    std::string out;
    std::string err;
};
SplitResult run_shell_split(const std::string& command);

// Polls `pred` every 20 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// A child process in its own process group, stopped (TERM, then KILL) on destruction.
class Process {
  public:
    Process(const std::string& path, const std::map<std::string, std::string>& env,
            const std::string& log_path, const std::vector<std::string>& args = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    bool alive();
    void kill_hard();  // SIGKILL, as in a crash
    void stop();       // SIGTERM and wait
    // SIGTERM only (the caller waits with wait_exit, e.g. to time a graceful stop).
    void terminate();
    // Waits up to `limit` for the process to exit: its exit status (128 + the signal when a
    // signal ended it), or nothing while it still runs.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    std::string log() const;

  private:
    int pid_ = -1;
    std::string log_path_;
};

// True when an AMQP broker answers on 127.0.0.1:`port`.
bool amqp_answers(int port);
// A private RabbitMQ node (scripts/lib/rabbitmq-node) on `port` keeping its data in `dir`, so
// that it can be stopped and started again; returns once it answers.
std::unique_ptr<Process> start_rabbitmq_node(const std::string& dir, int port,
                                             const std::string& log);
// A private redis-server on `port` with its append-only file (appendfsync everysec) in `dir`,
// so that it can be killed and started again; returns once it answers PING.
std::unique_ptr<Process> start_redis_server(const std::string& dir, int port,
                                            const std::string& log);

struct Received {
    std::string target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::chrono::steady_clock::time_point at;  // when it arrived
};

class Process;

// An HTTP receiver on 127.0.0.1 that records every request and answers `status`.
class Receiver {
  public:
    Receiver();
    ~Receiver();
    std::string url(const std::string& path = "/hook") const;
    std::vector<Received> requests();
    void set_status(int status);
    // Answers only after `delay` (a hanging receiver); other requests are not held up.
    void set_delay(std::chrono::milliseconds delay);
    // Adds Retry-After: <seconds> to answers (0: none).
    void set_retry_after(int seconds);
    // Answers requests whose target starts with `path` with this status and JSON body.
    void set_answer(const std::string& path, int status, const std::string& body);

  private:
    boost::asio::io_context ioc_;
    std::unique_ptr<http::Server> server_;
    std::thread thread_;
    std::mutex mu_;
    std::vector<Received> requests_;
    int status_ = 200;
    std::chrono::milliseconds delay_{0};
    int retry_after_ = 0;
    std::map<std::string, std::pair<int, std::string>> answers_;
};

// A real SMTP server (Debian's python3-aiosmtpd) on a free port, storing what it receives in a
// Maildir; messages() reads them back with Python's e-mail parser.
class SmtpServer {
  public:
    SmtpServer();
    ~SmtpServer();
    std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
    // Each message as {"subject" (decoded), "from", "to", "message_id", "references",
    // "content_type", "body" (decoded text/plain)}.
    nlohmann::json messages() const;

  private:
    int port_ = 0;
    std::string dir_;
    std::unique_ptr<Process> process_;
};

// A broker stand-in for component tests: records what a service publishes.
class RecordingSink final : public amqp::MessageSink {
  public:
    void publish_confirmed(const std::vector<amqp::Message>& messages) override;
    std::vector<amqp::Message> take();  // what was published since the last take
    void fail_next(int batches);        // the next batches throw PublishError

  private:
    std::mutex mu_;
    std::vector<amqp::Message> published_;
    int fail_next_ = 0;
};

// The three services of one stack with their own prefix, config and playbook dirs.
class Stack {
  public:
    struct Options {
        std::string config_dir;
        std::string playbook_dir;
        std::map<std::string, std::string> extra_env;
        int orchestrators = 1;  // replicas, side by side (fault tests)
        int notifiers = 1;
    };
    Stack(const TestEnv& env, Options options);
    ~Stack();
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    // The admin listeners (/metrics, /healthz) of the orchestrator and the notifier.
    std::string orchestrator_admin_url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(orchestrator_admin_port_) + path;
    }
    std::string notifier_admin_url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(notifier_admin_port_) + path;
    }
    int port() const { return port_; }
    int orchestrator_admin_port() const { return orchestrator_admin_port_; }
    int notifier_admin_port() const { return notifier_admin_port_; }
    const std::string& prefix() const { return prefix_; }
    redis::Connection& redis() { return *redis_; }
    std::map<std::string, std::string> env() const { return env_; }
    Process& gateway() { return *gateway_; }
    Process& orchestrator(std::size_t replica = 0) { return *orchestrators_.at(replica); }
    Process& notifier(std::size_t replica = 0) { return *notifiers_.at(replica); }
    std::size_t replicas(const std::string& service) const;
    std::string logs();
    // Starts "gateway", "orchestrator" or "notifier" (that replica) again after it stopped (logs
    // append); waits until it is ready: the gateway's /readyz, a replica's admin /healthz.
    void restart(const std::string& service, std::size_t replica = 0);

  private:
    std::unique_ptr<Process> spawn(const std::string& service, std::size_t replica = 0);
    std::unique_ptr<Process>& slot(const std::string& service, std::size_t replica);
    int admin_port(const std::string& service, std::size_t replica) const;

    TestEnv test_env_;
    std::string prefix_;
    int port_ = 0;
    int orchestrator_admin_port_ = 0;
    int notifier_admin_port_ = 0;
    std::map<std::string, std::string> env_;
    std::string log_dir_;
    std::unique_ptr<redis::Connection> redis_;
    std::unique_ptr<Process> gateway_;
    std::vector<std::unique_ptr<Process>> orchestrators_, notifiers_;
    std::vector<int> orchestrator_admin_ports_, notifier_admin_ports_;  // replicas 1…
};

// A TCP proxy on 127.0.0.1 in front of a local port, for cutting a service off its broker: cut()
// stalls every connection, as a network partition does (no byte passes either way; new
// connections are accepted and held), heal() lets the bytes flow again.
class TcpProxy {
  public:
    explicit TcpProxy(int target_port);
    ~TcpProxy();
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;
    int port() const { return port_; }
    void cut();
    void heal();
    // Connections it has accepted so far.
    int connections() const;

  private:
    void accept_loop();
    void pump(int client);

    int target_port_;
    int port_ = 0;
    int listener_ = -1;
    std::atomic<bool> cut_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    std::mutex mu_;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

struct HttpResult {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};
HttpResult http_post(const std::string& url, const std::string& body,
                     std::vector<std::pair<std::string, std::string>> headers = {});
HttpResult http_get(const std::string& url,
                    std::vector<std::pair<std::string, std::string>> headers = {});

// Reads one counter from a Prometheus text page.
double metric(const std::string& page, const std::string& name);

}  // namespace sonae::test
