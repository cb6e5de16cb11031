// The REST API (PRODUCT §10): incidents, their timelines and commands, playbooks and business
// services, behind bearer tokens with a tenant and a role (api_view.hpp). Reads come from Redis
// through the RedisWorker; commands take the same path as chat-ops (sonae.commands), and their
// results are read back from Redis. An incident of a tenant the token does not see is a 404.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include <sonae/amqp/publisher.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/library.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/http/server.hpp>
#include <sonae/store/keys.hpp>

#include "api_view.hpp"

namespace sonae::gateway {

class RedisWorker;
class BoardFeed;

// A route the gateway serves: method and path template ("/v1/incidents/{id}"), as in
// schemas/openapi.yaml (the conformance test compares the two).
struct RouteSpec {
    std::string method;
    std::string path;
};
// Whether `path` fits `pattern`; each {name} matches one non-empty segment, put in `params`.
bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>* params);

class Api {
  public:
    // `libraries` (may be null) gives the playbooks and catalogs; `redis` may be null (503).
    // `scenario_schema` (may be null: drills answer 503) checks the scenarios of live drills.
    Api(const config::Config& config, const core::Libraries* libraries, amqp::Publisher& publisher,
        RedisWorker* redis, const clock::Clock& clock, amqp::Topology topology,
        const core::SchemaValidator* scenario_schema = nullptr, BoardFeed* board_feed = nullptr);

    static const std::vector<RouteSpec>& routes();

    // The response when `path` is one of the API's routes, else none.
    boost::asio::awaitable<std::optional<http::Response>> handle(http::Request& req,
                                                                 const std::string& path,
                                                                 const std::string& query);

  private:
    using Params = std::map<std::string, std::string>;
    boost::asio::awaitable<core::Result<api::Principal>> authenticate(const http::Request& req);
    boost::asio::awaitable<http::Response> list_incidents(const api::Principal& who,
                                                          const Params& query, unsigned version);
    boost::asio::awaitable<http::Response> incident(const api::Principal& who,
                                                    const std::string& id, unsigned version);
    boost::asio::awaitable<http::Response> timeline(const api::Principal& who,
                                                    const std::string& id, const Params& query,
                                                    unsigned version);
    boost::asio::awaitable<http::Response> chain(const api::Principal& who, const std::string& id,
                                                 unsigned version);
    // An incident's report (api_reports.cpp): ?format=json|markdown|html, ?lang=ja|en.
    boost::asio::awaitable<http::Response> incident_report(const api::Principal& who,
                                                           const std::string& id,
                                                           const std::string& kind,
                                                           const Params& query, unsigned version);
    boost::asio::awaitable<http::Response> post_command(const api::Principal& who,
                                                        const std::string& id,
                                                        const std::string& body, unsigned version);
    boost::asio::awaitable<http::Response> command(const api::Principal& who, const std::string& id,
                                                   unsigned version);
    // Who the token is, what it sees and which commands its role may send (the board's buttons).
    http::Response me(const api::Principal& who, unsigned version) const;
    // The live board's changes after ?since= (board_feed.hpp), as Server-Sent Events; waits up to
    // ?wait= seconds (default 25) for one.
    boost::asio::awaitable<http::Response> stream(const api::Principal& who, const Params& query,
                                                  unsigned version);
    http::Response playbooks(const api::Principal& who, const Params& query,
                             unsigned version) const;
    boost::asio::awaitable<http::Response> services(const api::Principal& who, const Params& query,
                                                    unsigned version);
    // Live drills (api_exercises.cpp, PRODUCT §11).
    boost::asio::awaitable<http::Response> start_exercise(const api::Principal& who,
                                                          const std::string& body,
                                                          unsigned version);
    boost::asio::awaitable<http::Response> list_exercises(const api::Principal& who,
                                                          const Params& query, unsigned version);
    boost::asio::awaitable<http::Response> exercise(const api::Principal& who,
                                                    const std::string& id, unsigned version);
    // pause, resume or stop
    boost::asio::awaitable<http::Response> change_exercise(const api::Principal& who,
                                                           const std::string& id,
                                                           const std::string& change,
                                                           unsigned version);
    boost::asio::awaitable<http::Response> exercise_report(const api::Principal& who,
                                                           const std::string& id,
                                                           const Params& query, unsigned version);

    // The tenant of incident `id` when `who` sees it and Redis is there; else the answer
    // (404: not the caller's or no incident id, 503: no Redis).
    std::variant<std::string, http::Response> incident_tenant(const api::Principal& who,
                                                              const std::string& id,
                                                              unsigned version) const;
    // The tenants `who` sees, narrowed by ?tenant= (an invalid value is a 400).
    core::Result<std::vector<std::string>> tenants_for(const api::Principal& who,
                                                       const Params& query) const;
    const core::Library* library(const std::string& tenant) const;
    // The playbook an incident runs, if its tenant's library still loads it.
    const core::Playbook* playbook_of(const core::Incident& i) const;

    const config::Config& config_;
    const core::Libraries* libraries_;
    amqp::Publisher& publisher_;
    RedisWorker* redis_;
    const clock::Clock& clock_;
    amqp::Topology topology_;
    const core::SchemaValidator* scenario_schema_;
    BoardFeed* board_feed_;
    store::Keys keys_;
    std::set<std::string> tenants_;  // every tenant the configuration names
};

}  // namespace sonae::gateway
