// TLS end to end, with a throwaway PKI made by the test (openssl CLI: a root CA, an intermediate,
// a server certificate for localhost and 127.0.0.1, and an unrelated CA): the gateway over HTTPS
// (TLS 1.2+, a chain with an intermediate, plain HTTP and TLS 1.1 refused, bad files refused at
// start-up), rediss:// to a Redis with tls-port, and amqps:// to a private RabbitMQ node with a
// TLS listener (scripts/lib/common.sh's start_rabbitmq); last, a gateway that uses TLS for all
// three: HTTPS, rediss:// and amqps://.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <csignal>
#include <cstdlib>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonae/amqp/topology.hpp>

#include "testkit.hpp"

using namespace sonae;
using namespace sonae::test;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Runs a shell command; fails the test with its output when it fails.
void sh(const std::string& command, const std::string& dir) {
    const std::string log = dir + "/sh.log";
    const std::string full = "cd '" + dir + "' && (" + command + ") >'" + log + "' 2>&1";
    if (std::system(full.c_str()) != 0)
        FAIL("command failed: " << command << "\n" << read_file(log));
}

// The test's PKI, made once per process.
struct Pki {
    std::string dir;
    std::string root() const { return dir + "/root.pem"; }    // the CA clients trust
    std::string other() const { return dir + "/other.pem"; }  // a CA that signed nothing here
    std::string chain() const { return dir + "/chain.pem"; }  // server, then intermediate
    std::string server() const { return dir + "/server.pem"; }
    std::string key() const { return dir + "/server.key"; }
    std::string other_key() const { return dir + "/other.key"; }
    std::string cas() const { return dir + "/cas.pem"; }  // intermediate and root
};

const Pki& pki() {
    static const Pki p = [] {
        Pki out{make_temp_dir("pki")};
        sh(R"(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
key root.key; key inter.key; key server.key; key other.key
ca='-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign'
openssl req -x509 -new -key root.key -out root.pem -days 2 -subj '/CN=sonae test root' $ca
openssl req -x509 -new -key other.key -out other.pem -days 2 -subj '/CN=sonae test other' $ca
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >ca.ext
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
openssl req -new -key inter.key -out inter.csr -subj '/CN=sonae test intermediate'
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile ca.ext -out inter.pem
openssl req -new -key server.key -out server.csr -subj '/CN=localhost'
openssl x509 -req -in server.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 2 -extfile server.ext -out server.pem
cat server.pem inter.pem >chain.pem
cat inter.pem root.pem >cas.pem
chmod 644 *)",
           out.dir);
        return out;
    }();
    return p;
}

// ---------------------------------------------------------------- HTTPS client for the gateway

struct HttpsAnswer {
    int status = 0;
    std::string body;
};

// One TLS connection to the gateway, verifying it against `ca` as "localhost"; `configure` may
// narrow the protocol versions. Requests on it use keep-alive.
class HttpsConnection {
  public:
    HttpsConnection(int port, const std::string& ca,
                    const std::function<void(SSL_CTX*)>& configure = {})
        : ctx_(make_context(ca, configure)), stream_(ioc_, ctx_) {
        stream_.set_verify_callback(ssl::host_name_verification("localhost"));
        SSL_ctrl(stream_.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>("localhost"));
        stream_.next_layer().connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        stream_.handshake(ssl::stream_base::client);
    }
    HttpsAnswer request(bhttp::verb method, const std::string& target, const std::string& body = {},
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        bhttp::request<bhttp::string_body> req{method, target, 11};
        req.set(bhttp::field::host, "localhost");
        for (const auto& [k, v] : headers)
            req.set(k, v);
        req.body() = body;
        req.prepare_payload();
        bhttp::write(stream_, req);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> res;
        bhttp::read(stream_, buffer, res);
        return {static_cast<int>(res.result_int()), res.body()};
    }
    const char* protocol() { return SSL_get_version(stream_.native_handle()); }

  private:
    // Settings are copied into each connection when it is made: they come first.
    static ssl::context make_context(const std::string& ca,
                                     const std::function<void(SSL_CTX*)>& configure) {
        ssl::context ctx(ssl::context::tls_client);
        ctx.load_verify_file(ca);
        ctx.set_verify_mode(ssl::verify_peer);
        if (configure)
            configure(ctx.native_handle());
        return ctx;
    }

    asio::io_context ioc_;
    ssl::context ctx_;
    ssl::stream<tcp::socket> stream_;
};

// The handshake's error text, or "" when it succeeded.
std::string handshake_error(int port, const std::string& ca,
                            const std::function<void(SSL_CTX*)>& configure) {
    try {
        HttpsConnection c(port, ca, configure);
        return {};
    } catch (const boost::system::system_error& e) {
        return e.what();
    }
}

const char* kSources = R"(sources:
  - {name: generic, format: generic, auth: {type: bearer, token: tls-token}}
)";

// A gateway with TLS settings, against the Redis and RabbitMQ of scripts/test.
struct Gateway {
    TestEnv env = TestEnv::require();
    int port = free_port();
    std::string prefix = unique_name("tls");
    std::string dir = make_temp_dir("tls-gw");
    std::unique_ptr<Process> process;

    explicit Gateway(const std::map<std::string, std::string>& tls_env) {
        write_file(dir + "/config/sources.yaml", kSources);
        std::map<std::string, std::string> e{
            {"SONAE_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)},
            {"SONAE_REDIS_URL", env.redis_url},
            {"SONAE_AMQP_URL", env.amqp_url},
            {"SONAE_CONFIG_DIR", dir + "/config"},
            {"SONAE_PLAYBOOK_DIR", env.source_dir + "/playbooks"},
            {"SONAE_SCHEMA_DIR", env.source_dir + "/schemas"},
            {"SONAE_PREFIX", prefix},
            {"SONAE_LOG_LEVEL", "debug"}};
        for (const auto& [k, v] : tls_env)
            e[k] = v;
        process = std::make_unique<Process>(env.bin_dir + "/services/gateway/sonae-gateway", e,
                                            dir + "/gateway.log");
    }
    ~Gateway() {
        process.reset();
        try {
            amqp::Connection c(amqp::Settings::parse(env.amqp_url).value());
            amqp::Topology{prefix}.remove(c);
        } catch (const std::exception&) {
        }
    }
    bool ready() {
        try {
            return HttpsConnection(port, pki().root())
                       .request(bhttp::verb::get, "/readyz")
                       .status == 200;
        } catch (const std::exception&) {
            return false;
        }
    }
};

}  // namespace

TEST_CASE("gateway over HTTPS: health and ingest, TLS 1.2+, no plain HTTP, no TLS 1.1") {
    Gateway gw({{"SONAE_TLS_CERT", pki().chain()}, {"SONAE_TLS_KEY", pki().key()}});
    REQUIRE_MESSAGE(wait_until([&] { return gw.ready(); }, std::chrono::seconds(30)),
                    gw.process->log());
    CHECK(gw.process->log().find("listening on https://") != std::string::npos);

    // One connection, verified through the intermediate the server sends to the root the
    // client trusts; keep-alive across requests.
    HttpsConnection c(gw.port, pki().root());
    const HttpsAnswer health = c.request(bhttp::verb::get, "/healthz");
    CHECK(health.status == 200);
    const HttpsAnswer ingest =
        c.request(bhttp::verb::post, "/v1/events/generic",
                  read_file(gw.env.source_dir + "/tests/fixtures/siem/generic-event.json"),
                  {{"Authorization", "Bearer tls-token"}, {"Content-Type", "application/json"}});
    CHECK_MESSAGE(ingest.status == 202, ingest.body);
    CHECK(nlohmann::json::parse(ingest.body)["accepted"] == 1);

    SUBCASE("TLS 1.2 and TLS 1.3 are accepted") {
        CHECK(std::string(HttpsConnection(gw.port, pki().root(), [](SSL_CTX* ctx) {
                              SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
                          }).protocol()) == "TLSv1.2");
        CHECK(std::string(HttpsConnection(gw.port, pki().root(), [](SSL_CTX* ctx) {
                              SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
                          }).protocol()) == "TLSv1.3");
    }
    SUBCASE("TLS 1.1 is refused by the server") {
        const std::string error = handshake_error(gw.port, pki().root(), [](SSL_CTX* ctx) {
            SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
            SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
            // OpenSSL 3 offers TLS 1.1 only at security level 0.
            SSL_CTX_set_security_level(ctx, 0);
            SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
        });
        // The server's alert, not the client giving up on its own.
        CHECK_MESSAGE(error.find("alert protocol version") != std::string::npos, error);
    }
    SUBCASE("a client that does not trust the issuer gets no connection") {
        const std::string error = handshake_error(gw.port, pki().other(), {});
        CHECK_MESSAGE(error.find("certificate verify failed") != std::string::npos, error);
    }
    SUBCASE("plain HTTP gets no HTTP answer") {
        asio::io_context ioc;
        tcp::socket s(ioc);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                static_cast<unsigned short>(gw.port)));
        asio::write(s, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
        std::string received;
        boost::system::error_code ec;
        char buf[512];
        // The server drops the connection after the failed handshake (read ends with EOF).
        for (std::size_t n = s.read_some(asio::buffer(buf), ec); !ec;
             n = s.read_some(asio::buffer(buf), ec))
            received.append(buf, n);
        CHECK(received.find("HTTP/") == std::string::npos);
        CHECK(received.find("200") == std::string::npos);
    }
}

TEST_CASE("gateway refuses unusable TLS files at start-up, naming them") {
    SUBCASE("a certificate file that is not there") {
        Gateway gw(
            {{"SONAE_TLS_CERT", pki().dir + "/missing.pem"}, {"SONAE_TLS_KEY", pki().key()}});
        REQUIRE(wait_until([&] { return !gw.process->alive(); }, std::chrono::seconds(20)));
        const std::string log = gw.process->log();
        CHECK_MESSAGE(log.find("SONAE_TLS_CERT: cannot read file '" + pki().dir +
                               "/missing.pem'") != std::string::npos,
                      log);
    }
    SUBCASE("a key that does not belong to the certificate") {
        Gateway gw({{"SONAE_TLS_CERT", pki().chain()}, {"SONAE_TLS_KEY", pki().other_key()}});
        REQUIRE(wait_until([&] { return !gw.process->alive(); }, std::chrono::seconds(20)));
        const std::string log = gw.process->log();
        CHECK_MESSAGE(log.find("private key " + pki().other_key() +
                               " does not belong to certificate") != std::string::npos,
                      log);
    }
    SUBCASE("a certificate file that is not PEM") {
        Gateway gw({{"SONAE_TLS_CERT", pki().dir + "/ca.ext"}, {"SONAE_TLS_KEY", pki().key()}});
        REQUIRE(wait_until([&] { return !gw.process->alive(); }, std::chrono::seconds(20)));
        const std::string log = gw.process->log();
        CHECK_MESSAGE(
            log.find("cannot use certificate chain " + pki().dir + "/ca.ext") != std::string::npos,
            log);
    }
    SUBCASE("a key without a certificate") {
        Gateway gw({{"SONAE_TLS_KEY", pki().key()}});
        REQUIRE(wait_until([&] { return !gw.process->alive(); }, std::chrono::seconds(20)));
        CHECK(gw.process->log().find("SONAE_TLS_CERT is not set") != std::string::npos);
    }
}

// ---------------------------------------------------------------- rediss://

namespace {

// redis-server with only a TLS port (Debian's is built with TLS).
struct TlsRedis {
    int port = free_port();
    std::string dir = make_temp_dir("tls-redis");
    std::unique_ptr<Process> process;

    TlsRedis() {
        process = std::make_unique<Process>(
            "/usr/bin/redis-server", std::map<std::string, std::string>{}, dir + "/redis.log",
            std::vector<std::string>{"--port",
                                     "0",
                                     "--tls-port",
                                     std::to_string(port),
                                     "--bind",
                                     "127.0.0.1",
                                     "127.0.0.2",
                                     "--tls-cert-file",
                                     pki().chain(),
                                     "--tls-key-file",
                                     pki().key(),
                                     "--tls-ca-cert-file",
                                     pki().root(),
                                     "--tls-auth-clients",
                                     "no",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir});
    }
    redis::Settings settings(const std::string& host, const std::string& ca) const {
        redis::Settings s =
            redis::Settings::parse("rediss://" + host + ":" + std::to_string(port)).value();
        s.ca_file = ca;
        s.connect_timeout = std::chrono::seconds(2);
        return s;
    }
};

}  // namespace

TEST_CASE("rediss:// URLs") {
    const redis::Settings s = redis::Settings::parse("rediss://:pw@cache.example:6380/2").value();
    CHECK(s.tls);
    CHECK(s.host == "cache.example");
    CHECK(s.port == 6380);
    CHECK(s.password == "pw");
    CHECK(s.db == 2);
    CHECK(redis::Settings::parse("rediss://cache.example")->port == 6379);
    CHECK_FALSE(redis::Settings::parse("redis://cache.example")->tls);
}

TEST_CASE("redis::Connection over rediss:// to a Redis with tls-port") {
    TlsRedis server;
    redis::Connection conn(server.settings("127.0.0.1", pki().root()));
    REQUIRE_MESSAGE(wait_until(
                        [&] {
                            try {
                                return conn.command({"PING"}).str() == "PONG";
                            } catch (const redis::Error&) {
                                return false;
                            }
                        },
                        std::chrono::seconds(20)),
                    server.process->log());

    SUBCASE("commands, a pipeline and a value larger than a TLS record") {
        const std::string key = unique_name("tls-");
        const std::string big(300 * 1024, 'x');
        conn.command({"SET", key, big});
        CHECK(conn.command({"GET", key}).str() == big);
        std::vector<std::vector<std::string>> cmds;
        for (int i = 0; i < 500; ++i)
            cmds.push_back({"INCR", key + ":n"});
        const auto replies = conn.pipeline(cmds);
        REQUIRE(replies.size() == 500);
        CHECK(replies.back().integer() == 500);
        CHECK_THROWS_AS(conn.command({"LPUSH", key, "x"}), redis::ReplyError);  // WRONGTYPE
        CHECK(conn.connected());  // an error reply keeps the connection
        const redis::Script script("return redis.call('GET', KEYS[1])");
        CHECK(conn.eval(script, {key + ":n"}, {}).str() == "500");
    }
    SUBCASE("the certificate names localhost too") {
        redis::Connection by_name(server.settings("localhost", pki().root()));
        CHECK(by_name.command({"PING"}).str() == "PONG");
    }
    SUBCASE("a server the CA did not certify is refused with a clear error") {
        redis::Connection wrong(server.settings("127.0.0.1", pki().other()));
        try {
            wrong.command({"PING"});
            FAIL("connected to a server signed by another CA");
        } catch (const redis::IoError& e) {
            const std::string what = e.what();
            CHECK_MESSAGE(what.find("server certificate not trusted") != std::string::npos, what);
            CHECK_MESSAGE(what.find(pki().other()) != std::string::npos, what);
        }
        CHECK_FALSE(wrong.connected());
    }
    SUBCASE("a host name the certificate does not carry is refused") {
        // 127.0.0.2 reaches the same loopback server, but is not in the certificate.
        redis::Connection wrong(server.settings("127.0.0.2", pki().root()));
        try {
            wrong.command({"PING"});
            FAIL("accepted a certificate for another address");
        } catch (const redis::IoError& e) {
            const std::string what = e.what();
            CHECK_MESSAGE(what.find("not trusted") != std::string::npos, what);
        }
    }
    SUBCASE("a plain client on the TLS port gets an error, not an answer") {
        redis::Settings plain = server.settings("127.0.0.1", pki().root());
        plain.tls = false;
        plain.command_timeout = std::chrono::milliseconds(500);
        redis::Connection c(plain);
        CHECK_THROWS_AS(c.command({"PING"}), redis::Error);
    }
}

// ---------------------------------------------------------------- amqps://

namespace {

// A private RabbitMQ node started by scripts/lib/common.sh with a TLS listener as well.
struct TlsRabbit {
    int port = free_port();
    int tls_port = free_port();
    std::string dir = make_temp_dir("tls-rabbit");
    std::unique_ptr<Process> launcher;
    std::vector<int> groups;  // the process groups start_rabbitmq spawned

    TlsRabbit() {
        ::chmod(dir.c_str(), 0755);
        const std::string tls = dir + "/node/tls";
        sh("mkdir -p '" + tls + "' && cp '" + pki().server() + "' '" + pki().key() + "' '" +
               pki().cas() + "' '" + tls + "/'",
           dir);
        const std::string conf =
            "listeners.ssl.1 = 127.0.0.1:" + std::to_string(tls_port) +
            "\nssl_options.cacertfile = " + tls + "/cas.pem" + "\nssl_options.certfile = " + tls +
            "/server.pem" + "\nssl_options.keyfile = " + tls + "/server.key" +
            "\nssl_options.verify = verify_none" + "\nssl_options.fail_if_no_peer_cert = false";
        const std::string script = "source '" + std::string(SONAE_SOURCE_DIR) +
                                   "/scripts/lib/common.sh'\n"
                                   "trap sonae_cleanup EXIT\n"
                                   "trap 'exit 143' TERM INT\n"
                                   "start_rabbitmq '" +
                                   dir + "/node' " + std::to_string(port) +
                                   "\n"
                                   "echo \"groups: ${SONAE_PGIDS[*]} .\"\n"
                                   "echo ready\n"
                                   "sleep infinity & wait $!\n";
        launcher = std::make_unique<Process>(
            "/bin/bash", std::map<std::string, std::string>{{"SONAE_RABBITMQ_EXTRA_CONF", conf}},
            dir + "/launcher.log", std::vector<std::string>{"-c", script});
        const bool up = wait_until(
            [&] {
                return launcher->log().find("\nready") != std::string::npos || !launcher->alive();
            },
            std::chrono::seconds(120));
        const std::string log = launcher->log();
        const auto at = log.find("groups: ");
        if (at != std::string::npos) {
            std::istringstream in(log.substr(at + 8));
            for (std::string word; in >> word && word != ".";)
                groups.push_back(std::stoi(word));
        }
        REQUIRE_MESSAGE((up && launcher->alive()), log);
    }
    // The node takes a few seconds to stop, longer than Process gives a child: its groups are
    // stopped here the way scripts/test stops them (sonae_cleanup, as root), then the launcher.
    ~TlsRabbit() {
        std::string ids;
        for (int g : groups)
            ids += " " + std::to_string(g);
        const std::string cleanup = "bash -c 'source \"" + std::string(SONAE_SOURCE_DIR) +
                                    "/scripts/lib/common.sh\"; SONAE_PGIDS=(" + ids +
                                    "); sonae_cleanup' >/dev/null 2>&1";
        if (std::system(cleanup.c_str()) != 0)
            MESSAGE("stopping the TLS RabbitMQ node failed");
        launcher.reset();
    }
    amqp::Settings settings(const std::string& ca) const {
        amqp::Settings s =
            amqp::Settings::parse("amqps://guest:guest@localhost:" + std::to_string(tls_port) + "/")
                .value();
        s.ca_file = ca;
        return s;
    }
};

}  // namespace

TEST_CASE("amqps:// URLs") {
    const amqp::Settings s = amqp::Settings::parse("amqps://u:p@broker.example/prod").value();
    REQUIRE(s.endpoints.size() == 1);
    CHECK(s.endpoints[0].tls);
    CHECK(s.endpoints[0].port == 5671);
    CHECK(s.endpoints[0].vhost == "prod");
    const amqp::Settings mixed =
        amqp::Settings::parse("amqps://b1.example:5673/,amqp://b2.example/").value();
    CHECK(mixed.endpoints[0].tls);
    CHECK(mixed.endpoints[0].port == 5673);
    CHECK_FALSE(mixed.endpoints[1].tls);
    CHECK(mixed.endpoints[1].port == 5672);
}

TEST_CASE(
    "amqps:// to a RabbitMQ TLS listener, then the gateway on HTTPS, rediss:// and amqps://") {
    TlsRabbit rabbit;
    std::unique_ptr<amqp::Connection> conn;
    REQUIRE(wait_until(
        [&] {
            try {
                conn = std::make_unique<amqp::Connection>(rabbit.settings(pki().root()));
                return true;
            } catch (const amqp::ConnectionError&) {
                return false;
            }
        },
        std::chrono::seconds(30)));
    const std::string queue = unique_name("tls-q-");
    amqp::QueueSpec spec;
    spec.name = queue;
    spec.quorum = false;
    conn->declare_queue(spec);
    conn->enable_confirms();
    amqp::Message m;
    m.routing_key = queue;
    m.body = R"({"over":"tls"})";
    m.message_id = unique_name("m-");
    conn->publish_confirmed({m}, std::chrono::seconds(10));  // the broker confirmed it
    conn->consume(queue);
    std::optional<amqp::Delivery> got;
    wait_until(
        [&] {
            auto f = conn->next(std::chrono::milliseconds(200));
            if (f && std::holds_alternative<amqp::Delivery>(*f))
                got = std::get<amqp::Delivery>(*f);
            return got.has_value();
        },
        std::chrono::seconds(10));
    REQUIRE(got.has_value());
    CHECK(got->body == m.body);
    CHECK(got->message_id == m.message_id);
    conn->ack(got->delivery_tag);
    conn->delete_queue(queue);

    // A broker the CA did not certify is refused (same node: starting one takes seconds).
    try {
        amqp::Connection wrong(rabbit.settings(pki().other()));
        FAIL("connected to a broker signed by another CA");
    } catch (const amqp::ConnectionError& e) {
        const std::string what = e.what();
        CHECK_MESSAGE(what.find("(TLS)") != std::string::npos, what);
    }

    // The whole gateway over TLS: HTTPS in front, its readiness probe on rediss://, its
    // confirming publisher (which waits on the socket with poll()) on amqps://.
    TlsRedis redis;
    Gateway gw({{"SONAE_TLS_CERT", pki().chain()},
                {"SONAE_TLS_KEY", pki().key()},
                {"SONAE_REDIS_URL", "rediss://localhost:" + std::to_string(redis.port)},
                {"SONAE_REDIS_CA", pki().root()},
                {"SONAE_AMQP_URL",
                 "amqps://guest:guest@localhost:" + std::to_string(rabbit.tls_port) + "/"},
                {"SONAE_AMQP_CA", pki().root()}});
    REQUIRE_MESSAGE(wait_until([&] { return gw.ready(); }, std::chrono::seconds(30)),
                    gw.process->log());
    HttpsConnection c(gw.port, pki().root());
    for (int i = 0; i < 20; ++i) {
        const HttpsAnswer ingest = c.request(
            bhttp::verb::post, "/v1/events/generic",
            R"({"dedup_key":"tls-)" + std::to_string(i) +
                R"(","action":"trigger","title":"over TLS","severity":"low"})",
            {{"Authorization", "Bearer tls-token"}, {"Content-Type", "application/json"}});
        CHECK_MESSAGE(ingest.status == 202, ingest.body);
    }
}
