// The gateway's request handling (PRODUCT §3, §10): ingest of every format, health, readiness and
// metrics. Requests are authenticated over their raw bytes, validated, normalised into canonical
// events and answered 202 only once the broker confirmed every message of the request.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <sonae/amqp/publisher.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/http/server.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/metrics/metrics.hpp>
#include <sonae/store/keys.hpp>

#include "api.hpp"
#include "chatops.hpp"

namespace sonae::gateway {

class BoardFeed;

struct Options {
    amqp::Topology topology;
    std::size_t max_json_depth = 64;
    int retry_after_s = 5;  // told to clients on 503
    // Teams answers a command in its response: how long to wait for the orchestrator's result
    // (Teams gives up after 5 s).
    std::chrono::milliseconds sync_answer_wait{4000};
    // The scenario schema for live drills (POST /v1/exercises); none: drills answer 503.
    const core::SchemaValidator* scenario_schema = nullptr;
    // The live board's feed (GET /v1/stream); none: the stream answers 503.
    BoardFeed* board_feed = nullptr;
};

// Readiness of the dependencies, refreshed by a background probe.
struct Health {
    std::atomic<bool> redis{false};
    std::atomic<bool> draining{false};  // stopping: /readyz answers 503 so a load balancer drains
};

// Request handling, a pure function of the request and the gateway's collaborators: testable
// in-process with a fake publisher and a manual clock (services/gateway/tests).
class RedisWorker;

class Gateway {
  public:
    // `redis` serves chat-ops (replays, open incidents, command results) and the REST API;
    // without it those routes answer 503. `libraries` gives the API its playbooks and catalogs.
    Gateway(const config::Config& config, const core::SchemaValidator& event_schema,
            amqp::Publisher& publisher, Health& health, const clock::Clock& clock, Options options,
            RedisWorker* redis = nullptr, const core::Libraries* libraries = nullptr);

    // Every route served (method and path template), as documented in schemas/openapi.yaml.
    static std::vector<RouteSpec> routes();

    boost::asio::awaitable<http::Response> handle(http::Request& req);

    // The one place that maps error codes to HTTP statuses and the JSON error body.
    static http::Status status_of(core::ErrorCode code);
    static http::Response error_response(const core::Error& e, unsigned version);

    // The gateway's series, served on /metrics.
    const metrics::Registry& registry() const { return registry_; }

  private:
    boost::asio::awaitable<http::Response> ingest(http::Request& req, const config::Source& source,
                                                  const std::string& query, bool pagerduty_api);
    // ingest() in three steps, the first and last plain functions (see ingest()).
    struct Prepared {
        std::vector<amqp::Message> messages;
        nlohmann::json ids = nlohmann::json::array();
        std::string dedup_key;
        metrics::Value* accepted = nullptr;
    };
    // A refusal, or nullopt with `out` ready to publish.
    std::optional<http::Response> prepare_ingest(http::Request& req, const config::Source& source,
                                                 const std::string& query, bool pagerduty_api,
                                                 Prepared& out);
    http::Response finish_ingest(const config::Source& source, bool pagerduty_api, unsigned version,
                                 const Prepared& prepared, const amqp::PublishOutcome& outcome,
                                 double confirm_s);
    boost::asio::awaitable<http::Response> enqueue(http::Request& req);
    // Chat-ops (chat.cpp): verify, refuse replays, map the identity, publish the command, answer.
    core::Result<chatops::Inbound> verify_chat(const std::string& route,
                                               const ingest::HeaderMap& headers,
                                               const std::string& body) const;
    boost::asio::awaitable<http::Response> chat(http::Request& req, const std::string& route);
    boost::asio::awaitable<http::Response> chat_command(const chatops::Inbound& in,
                                                        unsigned version);
    // The command's result from Redis, polled until it is there or `wait` passed.
    boost::asio::awaitable<std::optional<core::CommandReply>> await_result(
        const std::string& tenant, const std::string& id, std::chrono::milliseconds wait);
    // An ingest request refused: counted by source ("" when none is known) and error code.
    http::Response reject(const std::string& source, const core::Error& e, unsigned version);
    void register_metrics();
    http::Response metrics(unsigned version) const;
    http::Response readyz(unsigned version) const;
    void count(http::Status status);

    const config::Config& config_;
    const core::SchemaValidator& event_schema_;
    amqp::Publisher& publisher_;
    Health& health_;
    const clock::Clock& clock_;
    Options options_;
    RedisWorker* redis_;
    store::Keys keys_;
    Api api_;
    // Per source, looked up once per request: its limiter, its accepted series, and whether
    // the generic adapter's output provably fits the event schema (see ingest()).
    struct PerSource {
        std::unique_ptr<ingest::RateLimiter> limiter;
        metrics::Value* accepted = nullptr;
        bool canonical_fits = false;
    };
    std::map<std::string, PerSource, std::less<>> per_source_;

    metrics::Registry registry_;
    metrics::Counter& requests_;
    metrics::Counter& responses_;        // status
    metrics::Counter& events_accepted_;  // all sources
    metrics::Counter& accepted_;         // source
    metrics::Counter& rejected_;         // source, reason
    metrics::Histogram& publish_confirm_;
    metrics::Counter& chat_verification_failures_;
    // The series updated on every request, resolved once (a label lookup allocates and locks).
    std::array<metrics::Value*, 12> response_series_{};
    metrics::Value* events_accepted_all_ = nullptr;
};

}  // namespace sonae::gateway
