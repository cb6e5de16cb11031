// Run-time configuration: environment variables (PRODUCT §2) and the YAML files of
// SONAE_CONFIG_DIR (sources, channels, responders). Every file is checked against its JSON
// Schema; a wrong file is refused with "file:line: reason". Secrets may be written as
// ${env:NAME}, ${env:NAME:-default} or ${file:PATH}; they are never logged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/loader/loader.hpp>

namespace sonae::config {

// Every knob the environment sets (docs/operations.md lists them), read in one place.
struct Environment {
    std::string http_address = "127.0.0.1";  // SONAE_HTTP_ADDR host:port
    std::uint16_t http_port = 8080;
    std::string redis_url = "redis://127.0.0.1:6379";  // SONAE_REDIS_URL
    // SONAE_REDIS_SENTINELS host:port[,host:port…]: Redis Sentinels that name the master; then
    // SONAE_REDIS_URL gives the password, database and TLS, not the address.
    std::vector<std::pair<std::string, std::uint16_t>> redis_sentinels;
    std::string redis_sentinel_master = "sonae";  // SONAE_REDIS_SENTINEL_MASTER
    // SONAE_REDIS_WAIT_REPLICAS: a transaction counts once this many replicas have it (0: once
    // the primary has it); see redis::Settings::wait_replicas.
    int redis_wait_replicas = 0;
    std::string amqp_url = "amqp://guest:guest@127.0.0.1:5672/";  // SONAE_AMQP_URL (comma list)
    std::string config_dir = "config/dev";                        // SONAE_CONFIG_DIR
    std::string playbook_dir = "playbooks";                       // SONAE_PLAYBOOK_DIR
    std::string schema_dir;          // SONAE_SCHEMA_DIR, default: the source tree's schemas/
    std::string prefix = "sonae";    // SONAE_PREFIX: Redis key prefix and AMQP name prefix
    int workers = 2;                 // SONAE_WORKERS: consumer threads per service
    int http_threads = 2;            // SONAE_HTTP_THREADS: the gateway's I/O threads
    int max_connections = 4096;      // SONAE_MAX_CONNECTIONS: the gateway's connection cap
    std::string log_level = "info";  // SONAE_LOG_LEVEL: trace|debug|info|warn|error|critical|off
    // SONAE_DRAIN_SECONDS: on SIGTERM the gateway answers /readyz 503 and keeps serving this long
    // before it closes its listener (a load balancer takes it out meanwhile). At most 4, so that
    // with the 5 s confirm deadline of the last requests a stop stays under 10 s.
    int drain_seconds = 2;
    // SONAE_TLS_CERT and SONAE_TLS_KEY (both or neither): the gateway serves HTTPS only, with
    // this PEM certificate chain (certificate first, then intermediates) and PEM private key.
    std::string tls_cert;
    std::string tls_key;
    // SONAE_REDIS_CA / SONAE_AMQP_CA: PEM CA bundle that rediss:// / amqps:// servers are
    // verified against (default: the system's trust store).
    std::string redis_ca;
    std::string amqp_ca;
    bool log_json = true;  // SONAE_LOG_FORMAT: json (one object a line) | text
    // SONAE_ADMIN_ADDR host:port of the orchestrator's and notifier's admin listener (/metrics,
    // /healthz); unset: each service's default (127.0.0.1:9101, 127.0.0.1:9102). Port 0 picks one.
    std::optional<std::pair<std::string, std::uint16_t>> admin_address;
};

// Reads every SONAE_* variable above. Errors name the variable (in `field`).
core::Result<Environment> read_environment();

// Replaces ${env:NAME}, ${env:NAME:-default} and ${file:PATH} references.
core::Result<std::string> expand_references(const std::string& value);

struct Source {
    std::string name;
    std::string tenant = "default";
    ingest::Format format = ingest::Format::kGeneric;
    ingest::AuthConfig auth;
    std::string routing_key;  // PagerDuty Events v2: /v2/enqueue selects the source by it
    bool exercise = false;
    std::size_t max_body = 1024 * 1024;
    double rate_per_s = 200;
    double burst = 400;
};

struct Channel {
    std::string name;
    std::string tenant = "default";
    std::string type;  // webhook | slack | mattermost | teams | lineworks | email
    std::string url;   // webhook URL; email: smtp[s]://host:port; lineworks: unused
    std::string secret;
    core::Classification max_classification = core::Classification::k3C;
    bool exercise = false;
    bool all = false;
    std::vector<std::string> roles;
    core::Duration timeout = 10 * core::kSecond;
    // email: recipients; lineworks: channel ids, or "user:<id>" for one person.
    std::vector<std::string> to;
    double rate_per_s = 0;  // messages a second at most (0: unlimited; Slack webhooks: 1)
    // email
    std::string from;
    bool starttls = false;  // upgrade smtp:// with STARTTLS (smtps:// is TLS from the start)
    std::string username;
    std::string password;
};

struct Responder {
    std::string id;
    std::string name;
    std::string tenant = "default";
    std::string role;  // viewer | responder | commander | admin | prefecture
    std::vector<std::string> playbook_roles;
    std::string slack, mattermost, teams, lineworks, email;
};

struct ApiToken {
    std::string name;
    std::string tenant = "default";
    std::string sha256_hex;
    std::string role;
};

// The chat platforms responders drive incidents from (PRODUCT §9).
enum class ChatPlatform { kSlack, kMattermost, kTeams, kLineWorks };
std::string_view to_string(ChatPlatform p);

// A LINE WORKS bot (API 2.0): callbacks are signed with the bot secret; messages are sent with an
// access token from the service-account JWT grant.
struct LineWorksBot {
    std::string bot_id;
    std::string bot_secret;
    std::string client_id;
    std::string client_secret;
    std::string service_account;
    std::string private_key;  // PEM (RS256)
    std::string api_url = "https://www.worksapis.com/v1.0";
    std::string auth_url = "https://auth.worksmobile.com/oauth2/v2.0/token";
};

struct ChatSecrets {
    std::string slack_signing_secret;
    std::string mattermost_token;
    std::string teams_security_token;
    LineWorksBot lineworks;
    // The gateway's address as chat platforms reach it, for Mattermost's message buttons.
    std::string public_url;
};

struct Config {
    std::string dir;
    std::vector<Source> sources;
    std::vector<Channel> channels;  // only enabled ones (a channel whose url is empty is skipped)
    std::vector<std::string> disabled_channels;
    std::vector<Responder> responders;
    std::vector<ApiToken> api_tokens;
    ChatSecrets chat;

    const Source* find_source(const std::string& name) const;
    const Source* find_source_by_routing_key(const std::string& key) const;
    const Channel* find_channel(const std::string& name) const;
    // The responder with this identity on this platform, or none.
    const Responder* find_responder(ChatPlatform platform, const std::string& identity) const;
};

// Loads sources.yaml, channels.yaml and responders.yaml (each optional) from `dir`.
core::Result<Config> load(const std::string& dir, const loader::Schemas& schemas);

// Human-readable summary without secrets, printed at start-up.
std::string describe(const Config& config);

}  // namespace sonae::config
