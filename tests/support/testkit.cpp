#include "testkit.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonae/amqp/topology.hpp>

extern char** environ;

namespace sonae::test {

TestEnv TestEnv::require() {
    TestEnv e;
    const char* r = std::getenv("SONAE_TEST_REDIS_URL");
    const char* a = std::getenv("SONAE_TEST_AMQP_URL");
    const char* b = std::getenv("SONAE_TEST_BIN_DIR");
    if (r == nullptr || a == nullptr) {
        FAIL("SONAE_TEST_REDIS_URL / SONAE_TEST_AMQP_URL are not set: run scripts/test");
    }
    e.redis_url = r;
    e.amqp_url = a;
    e.bin_dir = b != nullptr ? b : SONAE_BINARY_DIR;
    return e;
}

std::string unique_name(const std::string& stem) {
    static std::mt19937_64 rng(std::random_device{}());
    std::ostringstream os;
    os << stem << std::hex << (rng() & 0xffffffffULL);
    return os.str();
}

// A port from below the kernel's ephemeral range (above it if that range starts low), never
// the same twice in one process. A port the kernel hands out for port 0 lies inside that range,
// where any outbound connection may take it before the test's server binds it: a private
// broker's once was (scripts/lib/common.sh picks its ports the same way).
int free_port() {
    static std::mutex mutex;
    static std::set<int> given;
    static std::mt19937 rng(std::random_device{}());
    int eph_low = 32768, eph_high = 60999;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> eph_low >> eph_high;
    const bool below = eph_low > 11024;
    std::uniform_int_distribution<int> pick(below ? 10000 : eph_high + 1,
                                            below ? eph_low - 1 : 65535);
    const std::lock_guard lock(mutex);
    boost::asio::io_context ioc;
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const int port = pick(rng);
        if (given.count(port) != 0)
            continue;
        boost::asio::ip::tcp::acceptor a(ioc);
        boost::system::error_code ec;
        a.open(boost::asio::ip::tcp::v4(), ec);
        if (!ec)
            a.bind({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                   ec);
        if (!ec) {
            given.insert(port);
            return port;
        }
    }
    throw std::runtime_error("free_port: no free port found");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

std::string make_temp_dir(const std::string& stem) {
    const auto dir = std::filesystem::temp_directory_path() / unique_name("sonae-" + stem + "-");
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::string write_webhook_config(const std::string& receiver_url, const std::string& token) {
    const std::string dir = make_temp_dir("config");
    write_file(dir + "/sources.yaml",
               "sources:\n  - {name: generic, format: generic, auth: {type: bearer, token: " +
                   token + "},\n     rate_limit: {per_second: 100000, burst: 100000}}\n");
    write_file(dir + "/channels.yaml", "channels:\n  - name: hook\n    type: webhook\n    url: " +
                                           receiver_url + "\n    all: true\n    timeout: 2s\n");
    return dir;
}

namespace {
// Runs `command` with /bin/sh and reads its stdout to the end.
ShellResult read_command(const std::string& command) {
    ShellResult r;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr)
        return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    const int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}
}  // namespace

ShellResult run_shell(const std::string& command) {
    return read_command(command + " 2>&1");
}

SplitResult run_shell_split(const std::string& command) {
    const std::string err = make_temp_dir("stderr") + "/stderr";
    const ShellResult r = read_command("{ " + command + "; } 2>" + err);
    SplitResult out{r.status, r.out, read_file(err)};
    std::filesystem::remove_all(std::filesystem::path(err).parent_path());
    return out;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

Process::Process(const std::string& path, const std::map<std::string, std::string>& env,
                 const std::string& log_path, const std::vector<std::string>& args)
    : log_path_(log_path) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos)
            merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env)
        merged[k] = v;
    std::vector<std::string> strings;
    for (const auto& [k, v] : merged)
        strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<std::string> words{path};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, path.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        pid_ = -1;
        FAIL("cannot start " << path);
    }
}

Process::~Process() {
    stop();
}

bool Process::alive() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

void Process::kill_hard() {
    if (pid_ <= 0)
        return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

void Process::stop() {
    if (pid_ <= 0)
        return;
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_hard();
}

void Process::terminate() {
    if (pid_ > 0)
        ::kill(pid_, SIGTERM);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0)
        return std::nullopt;
    int status = 0;
    int code = -1;
    wait_until(
        [&] {
            if (waitpid(pid_, &status, WNOHANG) != pid_)
                return false;
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        },
        limit);
    if (code < 0)
        return std::nullopt;
    pid_ = -1;
    return code;
}

std::string Process::log() const {
    return read_file(log_path_);
}

Receiver::Receiver() {
    http::ServerOptions opts;
    opts.port = 0;
    server_ = std::make_unique<http::Server>(
        ioc_, opts, [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
            Received r;
            r.target = std::string(req.target());
            for (const auto& f : req) {
                std::string name(f.name_string());
                for (auto& c : name)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                r.headers[name] = std::string(f.value());
            }
            r.body = req.body();
            r.at = std::chrono::steady_clock::now();
            int status = 200;
            int retry_after = 0;
            std::string body = "{}";
            std::chrono::milliseconds delay{0};
            {
                std::lock_guard lock(mu_);
                status = status_;
                delay = delay_;
                retry_after = retry_after_;
                for (const auto& [path, answer] : answers_) {
                    if (r.target.rfind(path, 0) == 0) {
                        status = answer.first;
                        body = answer.second;
                    }
                }
                requests_.push_back(std::move(r));
            }
            if (delay.count() > 0) {
                // A receiver that hangs: the answer comes late (or never, for the client).
                boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, delay);
                co_await t.async_wait(boost::asio::use_awaitable);
            }
            auto res = http::json_response(static_cast<http::Status>(status), body);
            if (retry_after > 0)
                res.set(boost::beast::http::field::retry_after, std::to_string(retry_after));
            co_return res;
        });
    server_->start();
    thread_ = std::thread([this] { ioc_.run(); });
}

Receiver::~Receiver() {
    server_->stop();
    ioc_.stop();
    thread_.join();
}

std::string Receiver::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
}

std::vector<Received> Receiver::requests() {
    std::lock_guard lock(mu_);
    return requests_;
}

void Receiver::set_status(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
}

void Receiver::set_answer(const std::string& path, int status, const std::string& body) {
    std::lock_guard lock(mu_);
    answers_[path] = {status, body};
}

SmtpServer::SmtpServer() : port_(free_port()), dir_(make_temp_dir("smtp")) {
    const std::string maildir = dir_ + "/Maildir";
    process_ = std::make_unique<Process>(
        "/usr/bin/python3", std::map<std::string, std::string>{}, dir_ + "/smtp.log",
        std::vector<std::string>{"-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_),
                                 "-c", "aiosmtpd.handlers.Mailbox", maildir});
    const bool up = wait_until(
        [&] {
            boost::asio::io_context ioc;
            boost::asio::ip::tcp::socket sock(ioc);
            boost::system::error_code ec;
            sock.connect(
                {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                ec);
            return !ec;
        },
        std::chrono::seconds(20));
    if (!up)
        FAIL("the SMTP server did not start:\n" << process_->log());
}

SmtpServer::~SmtpServer() = default;

nlohmann::json SmtpServer::messages() const {
    // Python's own parser decodes RFC 2047 subjects and transfer encodings.
    const std::string script = R"(
import json, mailbox, sys
from email.header import decode_header, make_header
out = []
for m in mailbox.Maildir(sys.argv[1], factory=None):
    part = m
    if m.is_multipart():
        part = next(p for p in m.walk() if p.get_content_type() == 'text/plain')
    out.append({'subject': str(make_header(decode_header(m['Subject']))),
                'from': m['From'], 'to': m['To'], 'message_id': m['Message-ID'],
                'references': m['References'], 'content_type': part.get_content_type(),
                'charset': part.get_content_charset(),
                'body': part.get_payload(decode=True).decode(part.get_content_charset())})
print(json.dumps(out))
)";
    const std::string script_path = dir_ + "/read.py";
    write_file(script_path, script);
    const std::string out_path = dir_ + "/messages.json";
    std::filesystem::remove(out_path);  // a Process appends to its log
    Process reader("/usr/bin/python3", {}, out_path, {script_path, dir_ + "/Maildir"});
    wait_until([&] { return !reader.alive(); }, std::chrono::seconds(20));
    return nlohmann::json::parse(read_file(out_path), nullptr, false);
}

void Receiver::set_retry_after(int seconds) {
    std::lock_guard lock(mu_);
    retry_after_ = seconds;
}

void Receiver::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delay_ = delay;
}

Stack::Stack(const TestEnv& env, Options options) : test_env_(env) {
    prefix_ = unique_name("t");
    port_ = free_port();
    orchestrator_admin_port_ = free_port();
    notifier_admin_port_ = free_port();
    for (int i = 1; i < options.orchestrators; ++i)
        orchestrator_admin_ports_.push_back(free_port());
    for (int i = 1; i < options.notifiers; ++i)
        notifier_admin_ports_.push_back(free_port());
    log_dir_ = make_temp_dir("logs");
    env_ = {{"SONAE_HTTP_ADDR", "127.0.0.1:" + std::to_string(port_)},
            {"SONAE_REDIS_URL", env.redis_url},
            {"SONAE_AMQP_URL", env.amqp_url},
            {"SONAE_CONFIG_DIR", options.config_dir},
            {"SONAE_PLAYBOOK_DIR", options.playbook_dir},
            {"SONAE_SCHEMA_DIR", env.source_dir + "/schemas"},
            {"SONAE_PREFIX", prefix_},
            {"SONAE_LOG_LEVEL", "info"},
            {"SONAE_DRAIN_SECONDS", "0"}};  // tests that drain ask for it
    for (const auto& [k, v] : options.extra_env)
        env_[k] = v;
    redis_ = std::make_unique<redis::Connection>(redis::Settings::parse(env.redis_url).value());
    for (int i = 0; i < std::max(1, options.orchestrators); ++i)
        orchestrators_.push_back(spawn("orchestrator", static_cast<std::size_t>(i)));
    for (int i = 0; i < std::max(1, options.notifiers); ++i)
        notifiers_.push_back(spawn("notifier", static_cast<std::size_t>(i)));
    gateway_ = spawn("gateway");
    const bool ready = wait_until([&] { return http_get(url("/readyz")).status == 200; },
                                  std::chrono::seconds(30));
    if (!ready)
        FAIL("the gateway did not become ready:\n" << logs());
}

Stack::~Stack() {
    gateway_.reset();
    orchestrators_.clear();
    notifiers_.clear();
    // Quorum queues are heavy: a test leaves none behind on the shared broker.
    try {
        amqp::Connection c(amqp::Settings::parse(test_env_.amqp_url).value());
        amqp::Topology{prefix_}.remove(c);
    } catch (const std::exception&) {
        // the broker may be the one a fault test stopped
    }
}

std::size_t Stack::replicas(const std::string& service) const {
    return service == "orchestrator" ? orchestrators_.size()
           : service == "notifier"   ? notifiers_.size()
                                     : 1;
}

int Stack::admin_port(const std::string& service, std::size_t replica) const {
    if (service == "gateway")
        return 0;
    const bool orch = service == "orchestrator";
    if (replica == 0)
        return orch ? orchestrator_admin_port_ : notifier_admin_port_;
    return (orch ? orchestrator_admin_ports_ : notifier_admin_ports_).at(replica - 1);
}

std::unique_ptr<Process>& Stack::slot(const std::string& service, std::size_t replica) {
    if (service == "gateway")
        return gateway_;
    return (service == "notifier" ? notifiers_ : orchestrators_).at(replica);
}

std::unique_ptr<Process> Stack::spawn(const std::string& service, std::size_t replica) {
    // Each admin listener on a port of its own, so that stacks (and scripts/run) coexist.
    auto env = env_;
    const int admin = admin_port(service, replica);
    if (admin != 0 && env.count("SONAE_ADMIN_ADDR") == 0)
        env["SONAE_ADMIN_ADDR"] = "127.0.0.1:" + std::to_string(admin);
    const std::string log = replica == 0 ? service : service + "-" + std::to_string(replica);
    return std::make_unique<Process>(
        test_env_.bin_dir + "/services/" + service + "/sonae-" + service, env,
        log_dir_ + "/" + log + ".log");
}

void Stack::restart(const std::string& service, std::size_t replica) {
    auto& p = slot(service, replica);
    p.reset();  // stops it if it still runs
    p = spawn(service, replica);
    const std::string ready =
        service == "gateway"
            ? url("/readyz")
            : "http://127.0.0.1:" + std::to_string(admin_port(service, replica)) + "/healthz";
    if (!wait_until([&] { return http_get(ready).status == 200; }, std::chrono::seconds(30)))
        FAIL(service << " " << replica << " did not become ready again:\n" << logs());
}

std::string Stack::logs() {
    std::string out = "--- gateway ---\n" + gateway_->log();
    for (std::size_t i = 0; i < orchestrators_.size(); ++i)
        out += "\n--- orchestrator " + std::to_string(i) + " ---\n" + orchestrators_[i]->log();
    for (std::size_t i = 0; i < notifiers_.size(); ++i)
        out += "\n--- notifier " + std::to_string(i) + " ---\n" + notifiers_[i]->log();
    return out;
}

bool amqp_answers(int port) {
    try {
        amqp::Settings s;
        s.endpoints = {amqp::Endpoint{"127.0.0.1", port, "guest", "guest", "/"}};
        s.connect_timeout = std::chrono::milliseconds(500);
        amqp::Connection c(s);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::unique_ptr<Process> start_rabbitmq_node(const std::string& dir, int port,
                                             const std::string& log) {
    auto p = std::make_unique<Process>(std::string(SONAE_SOURCE_DIR) + "/scripts/lib/rabbitmq-node",
                                       std::map<std::string, std::string>{}, log,
                                       std::vector<std::string>{dir, std::to_string(port)});
    if (!wait_until([&] { return amqp_answers(port); }, std::chrono::seconds(120)))
        FAIL("the private broker did not start:\n" << p->log());
    return p;
}

std::unique_ptr<Process> start_redis_server(const std::string& dir, int port,
                                            const std::string& log) {
    auto p = std::make_unique<Process>(
        "/usr/bin/redis-server", std::map<std::string, std::string>{}, log,
        std::vector<std::string>{"--port", std::to_string(port), "--bind", "127.0.0.1", "--dir",
                                 dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save",
                                 "", "--daemonize", "no"});
    const auto url = redis::Settings::parse("redis://127.0.0.1:" + std::to_string(port)).value();
    const bool up = wait_until(
        [&] {
            try {
                redis::Connection c(url);
                return c.command({"PING"}).str() == "PONG";
            } catch (const std::exception&) {
                return false;  // not listening yet, or still loading its append-only file
            }
        },
        std::chrono::seconds(30));
    if (!up)
        FAIL("redis-server did not start:\n" << p->log());
    return p;
}

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0)
        FAIL("proxy: cannot listen: " << std::strerror(errno));
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
    stopping_ = true;
    acceptor_.join();
    ::close(listener_);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mu_);
        threads.swap(threads_);
    }
    for (auto& t : threads)
        t.join();
}

void TcpProxy::cut() {
    cut_ = true;
}

void TcpProxy::heal() {
    cut_ = false;
}

int TcpProxy::connections() const {
    return connections_.load();
}

void TcpProxy::accept_loop() {
    while (!stopping_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        ++connections_;
        std::lock_guard lock(mu_);
        threads_.emplace_back([this, client] { pump(client); });
    }
}

void TcpProxy::pump(int client) {
    // Held while cut: a partition does not refuse connections, it swallows them.
    while (cut_ && !stopping_)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(upstream);
        ::close(client);
        return;
    }
    char buf[64 * 1024];
    bool open = true;
    while (open && !stopping_) {
        if (cut_) {  // nothing moves; the bytes wait in the sockets' buffers
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        if (::poll(p, 2, 50) <= 0)
            continue;
        for (int i = 0; i < 2 && open; ++i) {
            if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
                continue;
            const int from = i == 0 ? client : upstream;
            const int to = i == 0 ? upstream : client;
            const ssize_t n = ::read(from, buf, sizeof buf);
            if (n <= 0) {
                open = false;
                break;
            }
            for (ssize_t off = 0; off < n;) {
                const ssize_t w =
                    ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
                if (w <= 0) {
                    open = false;
                    break;
                }
                off += w;
            }
        }
    }
    ::close(upstream);
    ::close(client);
}

namespace {
HttpResult do_request(const std::string& method, const std::string& url, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers) {
    thread_local http::Client client;
    auto r = client.request(method, url, headers, body, std::chrono::seconds(15));
    return HttpResult{r.status, r.body, r.headers};
}
}  // namespace

HttpResult http_post(const std::string& url, const std::string& body,
                     std::vector<std::pair<std::string, std::string>> headers) {
    return do_request("POST", url, body, std::move(headers));
}

HttpResult http_get(const std::string& url,
                    std::vector<std::pair<std::string, std::string>> headers) {
    return do_request("GET", url, "", std::move(headers));
}

void RecordingSink::publish_confirmed(const std::vector<amqp::Message>& messages) {
    std::lock_guard lock(mu_);
    if (fail_next_ > 0) {
        --fail_next_;
        throw amqp::PublishError("test: the broker refused the batch");
    }
    published_.insert(published_.end(), messages.begin(), messages.end());
}

std::vector<amqp::Message> RecordingSink::take() {
    std::lock_guard lock(mu_);
    std::vector<amqp::Message> out;
    out.swap(published_);
    return out;
}

void RecordingSink::fail_next(int batches) {
    std::lock_guard lock(mu_);
    fail_next_ = batches;
}

double metric(const std::string& page, const std::string& name) {
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + " ", 0) == 0)
            return std::stod(line.substr(name.size() + 1));
    }
    return -1;
}

}  // namespace sonae::test
