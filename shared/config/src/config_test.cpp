#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include <sonae/config/config.hpp>

using namespace sonae;

namespace {

std::string dir_with(const std::map<std::string, std::string>& files) {
    static int n = 0;
    const auto dir =
        std::filesystem::temp_directory_path() /
        ("sonae-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::create_directories(dir);
    for (const auto& [name, content] : files)
        std::ofstream(dir / name) << content;
    return dir.string();
}

const loader::Schemas& kSchemas = [] {
    static loader::Schemas s = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas").value();
    return std::cref(s);
}();

}  // namespace

TEST_CASE("the development configuration loads") {
    auto c = config::load(SONAE_SOURCE_DIR "/config/dev", kSchemas);
    REQUIRE(c);
    CHECK(c->sources.size() == 8);
    const auto* splunk = c->find_source("splunk");
    REQUIRE(splunk != nullptr);
    CHECK(splunk->auth.scheme == ingest::AuthScheme::kQueryToken);
    CHECK(splunk->auth.secret == "dev-token");
    REQUIRE(c->find_source_by_routing_key("devroutingkey0000000000000000000") != nullptr);
    CHECK(c->find_source_by_routing_key("devroutingkey0000000000000000000")->name == "pagerduty");
    CHECK(c->find_source_by_routing_key("other") == nullptr);
    CHECK(c->chat.slack_signing_secret == "8f742231b10e8888abcd99yyyzzz85a5");
    CHECK(c->api_tokens.at(0).role == "admin");
    // Without SONAE_DEV_WEBHOOK_URL the dev webhook is disabled, not an error.
    if (std::getenv("SONAE_DEV_WEBHOOK_URL") == nullptr) {
        CHECK(c->channels.empty());
        CHECK(c->disabled_channels == std::vector<std::string>{"dev-webhook"});
    }
}

TEST_CASE("secret references") {
    ::setenv("SONAE_TEST_SECRET", "s3cret", 1);
    CHECK(config::expand_references("Bearer ${env:SONAE_TEST_SECRET}").value() == "Bearer s3cret");
    CHECK(config::expand_references("${env:SONAE_TEST_UNSET_X:-fallback}").value() == "fallback");
    CHECK_FALSE(config::expand_references("${env:SONAE_TEST_UNSET_X}"));
    CHECK_FALSE(config::expand_references("${vault:x}"));
    CHECK_FALSE(config::expand_references("${env:oops"));
    const std::string dir = dir_with({{"token", "from-file\n"}});
    CHECK(config::expand_references("${file:" + dir + "/token}").value() == "from-file");
    CHECK_FALSE(config::expand_references("${file:" + dir + "/missing}"));
}

TEST_CASE("a wrong file is refused with file, line and reason") {
    auto bad_format = config::load(
        dir_with(
            {{"sources.yaml",
              "sources:\n  - name: a\n    format: syslog\n    auth: {type: bearer, token: t}\n"}}),
        kSchemas);
    REQUIRE_FALSE(bad_format);
    CHECK(bad_format.error().message.find("sources.yaml:3: ") != std::string::npos);

    auto unknown_key =
        config::load(dir_with({{"sources.yaml",
                                "sources:\n  - name: a\n    format: generic\n    auth: {type: "
                                "bearer, token: t}\n    colour: red\n"}}),
                     kSchemas);
    REQUIRE_FALSE(unknown_key);
    CHECK(unknown_key.error().message.find("sources.yaml:") != std::string::npos);

    auto missing_token = config::load(
        dir_with({{"sources.yaml",
                   "sources:\n  - name: a\n    format: generic\n    auth: {type: bearer}\n"}}),
        kSchemas);
    REQUIRE_FALSE(missing_token);
    CHECK(missing_token.error().message.find("sources.yaml:4: auth type 'bearer' needs 'token'") !=
          std::string::npos);

    auto insecure = config::load(
        dir_with({{"sources.yaml",
                   "sources:\n  - name: a\n    format: generic\n    auth: {type: none}\n"}}),
        kSchemas);
    REQUIRE_FALSE(insecure);
    CHECK(insecure.error().message.find("insecure: true") != std::string::npos);

    auto unset = config::load(dir_with({{"channels.yaml",
                                         "channels:\n  - name: c\n    type: webhook\n    url: "
                                         "${env:SONAE_TEST_UNSET_URL}\n"}}),
                              kSchemas);
    REQUIRE_FALSE(unset);
    CHECK(unset.error().message.find(
              "channels.yaml:4: environment variable SONAE_TEST_UNSET_URL is not set") !=
          std::string::npos);

    auto dup = config::load(
        dir_with({{"sources.yaml",
                   "sources:\n  - {name: a, format: generic, auth: {type: bearer, token: t}}\n  - "
                   "{name: a, format: wazuh, auth: {type: bearer, token: t}}\n"}}),
        kSchemas);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message.find("duplicate source name") != std::string::npos);

    CHECK_FALSE(config::load("/nonexistent/dir", kSchemas));

    // A delivery call is bounded: a hanging receiver is given up on within a minute.
    for (const char* t : {"2m", "90s", "61s", "50ms", "0s"}) {
        CAPTURE(t);
        auto slow = config::load(
            dir_with({{"channels.yaml", std::string("channels:\n  - name: c\n    type: "
                                                    "webhook\n    url: http://x\n    timeout: ") +
                                            t + "\n"}}),
            kSchemas);
        REQUIRE_FALSE(slow);
        CHECK(slow.error().message.find("channels.yaml:5:") != std::string::npos);
    }
    for (const char* t : {"60s", "1m", "250ms", "5s"}) {
        CAPTURE(t);
        CHECK(config::load(dir_with({{"channels.yaml",
                                      std::string("channels:\n  - name: c\n    type: webhook\n    "
                                                  "url: http://x\n    timeout: ") +
                                          t + "\n"}}),
                           kSchemas));
    }
}

TEST_CASE("the environment is read in one place and bad values name their variable") {
    ::setenv("SONAE_HTTP_ADDR", "0.0.0.0:9090", 1);
    ::setenv("SONAE_WORKERS", "3", 1);
    ::setenv("SONAE_LOG_LEVEL", "debug", 1);
    auto e = config::read_environment();
    REQUIRE(e);
    CHECK(e->http_address == "0.0.0.0");
    CHECK(e->http_port == 9090);
    CHECK(e->workers == 3);
    CHECK(e->log_level == "debug");
    CHECK(e->http_threads == 2);
    CHECK_FALSE(e->admin_address);
    ::setenv("SONAE_ADMIN_ADDR", "127.0.0.1:0", 1);
    auto admin = config::read_environment();
    REQUIRE(admin);
    REQUIRE(admin->admin_address);
    CHECK(admin->admin_address->first == "127.0.0.1");
    CHECK(admin->admin_address->second == 0);
    ::setenv("SONAE_ADMIN_ADDR", "127.0.0.1:99999", 1);
    auto bad_admin = config::read_environment();
    REQUIRE_FALSE(bad_admin);
    CHECK(bad_admin.error().field == "SONAE_ADMIN_ADDR");
    ::unsetenv("SONAE_ADMIN_ADDR");
    CHECK(e->log_json);
    ::setenv("SONAE_LOG_FORMAT", "text", 1);
    CHECK_FALSE(config::read_environment()->log_json);
    ::setenv("SONAE_LOG_FORMAT", "xml", 1);
    auto bad_format = config::read_environment();
    REQUIRE_FALSE(bad_format);
    CHECK(bad_format.error().field == "SONAE_LOG_FORMAT");
    ::unsetenv("SONAE_LOG_FORMAT");
    ::setenv("SONAE_WORKERS", "many", 1);
    auto bad = config::read_environment();
    REQUIRE_FALSE(bad);
    CHECK(bad.error().field == "SONAE_WORKERS");
    ::setenv("SONAE_WORKERS", "0", 1);
    CHECK_FALSE(config::read_environment());
    ::unsetenv("SONAE_WORKERS");
    ::setenv("SONAE_HTTP_ADDR", "nohost", 1);
    auto no_port = config::read_environment();
    REQUIRE_FALSE(no_port);
    CHECK(no_port.error().field == "SONAE_HTTP_ADDR");
    ::setenv("SONAE_LOG_LEVEL", "loud", 1);
    ::unsetenv("SONAE_HTTP_ADDR");
    auto level = config::read_environment();
    REQUIRE_FALSE(level);
    CHECK(level.error().field == "SONAE_LOG_LEVEL");
    ::unsetenv("SONAE_LOG_LEVEL");
}

TEST_CASE("the gateway's drain window is 2 s unless set, and at most 4 s") {
    ::unsetenv("SONAE_DRAIN_SECONDS");
    CHECK(config::read_environment()->drain_seconds == 2);
    ::setenv("SONAE_DRAIN_SECONDS", "0", 1);
    CHECK(config::read_environment()->drain_seconds == 0);
    ::setenv("SONAE_DRAIN_SECONDS", "5", 1);
    auto long_drain = config::read_environment();
    REQUIRE_FALSE(long_drain);
    CHECK(long_drain.error().field == "SONAE_DRAIN_SECONDS");
    ::unsetenv("SONAE_DRAIN_SECONDS");
}

TEST_CASE("TLS file variables: readable files, certificate and key together") {
    const std::string dir = dir_with({{"cert.pem", "x"}, {"key.pem", "y"}, {"ca.pem", "z"}});
    ::setenv("SONAE_TLS_CERT", (dir + "/cert.pem").c_str(), 1);
    ::setenv("SONAE_TLS_KEY", (dir + "/key.pem").c_str(), 1);
    ::setenv("SONAE_REDIS_CA", (dir + "/ca.pem").c_str(), 1);
    auto e = config::read_environment();
    REQUIRE(e);
    CHECK(e->tls_cert == dir + "/cert.pem");
    CHECK(e->tls_key == dir + "/key.pem");
    CHECK(e->redis_ca == dir + "/ca.pem");
    CHECK(e->amqp_ca.empty());

    ::setenv("SONAE_AMQP_CA", (dir + "/missing.pem").c_str(), 1);
    auto missing = config::read_environment();
    REQUIRE_FALSE(missing);
    CHECK(missing.error().field == "SONAE_AMQP_CA");
    CHECK(missing.error().message == "SONAE_AMQP_CA: cannot read file '" + dir + "/missing.pem'");
    ::unsetenv("SONAE_AMQP_CA");

    ::unsetenv("SONAE_TLS_CERT");
    auto alone = config::read_environment();
    REQUIRE_FALSE(alone);
    CHECK(alone.error().field == "SONAE_TLS_CERT");
    ::unsetenv("SONAE_TLS_KEY");
    ::unsetenv("SONAE_REDIS_CA");
    CHECK(config::read_environment());
}

TEST_CASE("Redis Sentinels: a host:port list, a master name, replicas to wait for") {
    ::unsetenv("SONAE_REDIS_SENTINELS");
    ::unsetenv("SONAE_REDIS_SENTINEL_MASTER");
    auto none = config::read_environment();
    REQUIRE(none);
    CHECK(none->redis_sentinels.empty());
    CHECK(none->redis_sentinel_master == "sonae");

    ::setenv("SONAE_REDIS_SENTINELS", "s1.example:26379, 10.0.0.2:26380,[::1]:26381", 1);
    ::setenv("SONAE_REDIS_SENTINEL_MASTER", "city-hall", 1);
    auto e = config::read_environment();
    REQUIRE(e);
    using HostPort = std::pair<std::string, std::uint16_t>;
    CHECK(e->redis_sentinels ==
          std::vector<HostPort>{{"s1.example", 26379}, {"10.0.0.2", 26380}, {"::1", 26381}});
    CHECK(e->redis_sentinel_master == "city-hall");

    for (const char* bad : {"s1.example", "s1:26379,", "s1:0", ":26379", "s1:port", "s1:70000"}) {
        INFO(bad);
        ::setenv("SONAE_REDIS_SENTINELS", bad, 1);
        auto refused = config::read_environment();
        REQUIRE_FALSE(refused);
        CHECK(refused.error().field == "SONAE_REDIS_SENTINELS");
    }
    ::unsetenv("SONAE_REDIS_SENTINELS");
    CHECK(config::read_environment()->redis_wait_replicas == 0);
    ::setenv("SONAE_REDIS_WAIT_REPLICAS", "1", 1);
    CHECK(config::read_environment()->redis_wait_replicas == 1);
    ::setenv("SONAE_REDIS_WAIT_REPLICAS", "-1", 1);
    auto wait = config::read_environment();
    REQUIRE_FALSE(wait);
    CHECK(wait.error().field == "SONAE_REDIS_WAIT_REPLICAS");
    ::unsetenv("SONAE_REDIS_WAIT_REPLICAS");
    ::setenv("SONAE_REDIS_SENTINEL_MASTER", "two words", 1);
    auto master = config::read_environment();
    REQUIRE_FALSE(master);
    CHECK(master.error().field == "SONAE_REDIS_SENTINEL_MASTER");
    ::unsetenv("SONAE_REDIS_SENTINEL_MASTER");
}
