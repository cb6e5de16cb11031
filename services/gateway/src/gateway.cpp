#include "gateway.hpp"

#include <algorithm>
#include <cassert>
#include <sstream>

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <sonae/core/wire.hpp>
#include <sonae/crypto/crypto.hpp>
#include <sonae/log/log.hpp>
#include <sonae/service/admin.hpp>

#include "async.hpp"
#include "web.hpp"

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

// application/json, text/json and application/*+json, case-insensitively (RFC 9110), except
// CloudEvents batches, which sonae does not take.
bool json_content_type(std::string_view ct) {
    std::string base(ct.substr(0, ct.find(';')));
    while (!base.empty() && (base.back() == ' ' || base.back() == '\t'))
        base.pop_back();
    std::transform(base.begin(), base.end(), base.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (base == "application/json" || base == "text/json")
        return true;
    if (base == "application/cloudevents-batch+json")
        return false;
    return base.size() > 5 && base.rfind("application/", 0) == 0 &&
           base.substr(base.size() - 5) == "+json";
}

constexpr std::array<int, 12> kStatuses{200, 202, 400, 401, 403, 404, 413, 415, 429, 500, 503, 405};

// The gateway overwrites an event's tenant and source with the source's configured ones. When
// both are ASCII and within the event schema's lengths (tenant 1 to 64, source at most 128), the
// generic adapter's output always fits the schema (see ingest()).
bool fits_event_schema(const config::Source& s) {
    auto ascii = [](std::string_view v) {
        return std::all_of(v.begin(), v.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    return ascii(s.tenant) && !s.tenant.empty() && s.tenant.size() <= 64 && ascii(s.name) &&
           s.name.size() <= 128;
}

// The board's files (web.hpp) by path, with their media types.
struct Asset {
    const char* path;
    const char* file;
    const char* media;
};
constexpr std::array<Asset, 3> kAssets{{{"/", "index.html", "text/html; charset=utf-8"},
                                        {"/board.js", "board.js", "text/javascript; charset=utf-8"},
                                        {"/board.css", "board.css", "text/css; charset=utf-8"}}};

// The page holds an API token: nothing but its own files runs or loads, it is never framed.
constexpr const char* kBoardPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

http::Response asset_response(const Asset& a, unsigned version) {
    http::Response res{http::Status::ok, version};
    res.set(bhttp::field::content_type, a.media);
    res.set(bhttp::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", kBoardPolicy);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.body() = web_assets().at(a.file);
    res.prepare_payload();
    return res;
}

// received_at as format_timestamp writes it is an RFC 3339 date-time from 1970 to 9999.
constexpr core::TimePoint kLastFormattable = 253402300799999;  // 9999-12-31T23:59:59.999Z

}  // namespace

Gateway::Gateway(const config::Config& config, const core::SchemaValidator& event_schema,
                 amqp::Publisher& publisher, Health& health, const clock::Clock& clock,
                 Options options, RedisWorker* redis, const core::Libraries* libraries)
    : config_(config),
      event_schema_(event_schema),
      publisher_(publisher),
      health_(health),
      clock_(clock),
      options_(std::move(options)),
      redis_(redis),
      keys_{options_.topology.prefix},
      api_(config, libraries, publisher, redis, clock, options_.topology, options_.scenario_schema,
           options_.board_feed),
      requests_(registry_.counter("sonae_gateway_requests_total", "HTTP requests received.")),
      responses_(registry_.counter("sonae_gateway_responses_total", "HTTP responses by status.",
                                   {"status"})),
      events_accepted_(
          registry_.counter("sonae_gateway_events_accepted_total",
                            "Events confirmed by the broker and answered 202, all sources.")),
      accepted_(registry_.counter("sonae_events_accepted_total",
                                  "Events confirmed by the broker and answered 202, by source.",
                                  {"source"})),
      rejected_(registry_.counter(
          "sonae_events_rejected_total",
          "Ingest requests refused, by source (empty when unknown) and reason (the error code).",
          {"source", "reason"})),
      publish_confirm_(registry_.histogram(
          "sonae_publish_confirm_seconds",
          "Time from publishing a request's events to the broker's confirm of all of them.", {},
          metrics::latency_buckets())),
      chat_verification_failures_(
          registry_.counter("sonae_chat_verification_failures_total",
                            "Chat requests refused: signature, token, time window or replay.")) {
    for (const auto& s : config_.sources) {
        PerSource& per = per_source_[s.name];
        per.limiter = std::make_unique<ingest::RateLimiter>(s.rate_per_s, s.burst);
        per.accepted = &accepted_.with({s.name});  // every source's series exists from the start
        per.canonical_fits = s.format == ingest::Format::kGeneric && fits_event_schema(s);
    }
    for (std::size_t i = 0; i < kStatuses.size(); ++i)
        response_series_[i] = &responses_.with({std::to_string(kStatuses[i])});
    events_accepted_all_ = &events_accepted_.with({});
    register_metrics();
}

void Gateway::register_metrics() {
    // Read from the publisher at scrape time.
    auto stat = [this](std::uint64_t amqp::PublisherStats::*field) {
        return [this, field] {
            return std::vector<metrics::Sample>{
                {{}, static_cast<double>(publisher_.stats().*field)}};
        };
    };
    registry_.callback("sonae_amqp_published_total", "Messages published to the broker.",
                       metrics::Type::kCounter, {}, stat(&amqp::PublisherStats::published));
    registry_.callback("sonae_amqp_confirmed_total", "Messages the broker confirmed.",
                       metrics::Type::kCounter, {}, stat(&amqp::PublisherStats::confirmed));
    registry_.callback("sonae_amqp_failed_batches_total",
                       "Publish batches answered with an error (broker unavailable, deadline).",
                       metrics::Type::kCounter, {}, stat(&amqp::PublisherStats::failed_batches));
    registry_.callback("sonae_amqp_coalesced_total",
                       "Messages published inside a combined broker message (a JSON array).",
                       metrics::Type::kCounter, {}, stat(&amqp::PublisherStats::coalesced));
    registry_.callback("sonae_amqp_reconnects_total", "Reconnections to the broker.",
                       metrics::Type::kCounter, {}, stat(&amqp::PublisherStats::reconnects));
    registry_.callback(
        "sonae_broker_connected", "1 while the publisher is connected.", metrics::Type::kGauge, {},
        [this] {
            return std::vector<metrics::Sample>{{{}, publisher_.connected() ? 1.0 : 0.0}};
        });
}

http::Response Gateway::reject(const std::string& source, const core::Error& e, unsigned version) {
    rejected_.inc({source, std::string(core::error_code_name(e.code))});
    return error_response(e, version);
}

std::vector<RouteSpec> Gateway::routes() {
    std::vector<RouteSpec> out{{"GET", "/healthz"},
                               {"GET", "/readyz"},
                               {"GET", "/metrics"},
                               {"POST", "/v1/events/{source}"},
                               {"POST", "/v2/enqueue"}};
    for (const char* chat :
         {"slack", "slack/interactive", "mattermost", "mattermost/action", "teams", "lineworks"})
        out.push_back({"POST", std::string("/v1/chatops/") + chat});
    for (const Asset& a : kAssets)
        out.push_back({"GET", a.path});
    const auto& api = Api::routes();
    out.insert(out.end(), api.begin(), api.end());
    return out;
}

http::Status Gateway::status_of(core::ErrorCode code) {
    switch (code) {
        case core::ErrorCode::kInvalidJson:
        case core::ErrorCode::kInvalidField:
        case core::ErrorCode::kInvalidCommand:
            return http::Status::bad_request;
        case core::ErrorCode::kUnauthorized:
            return http::Status::unauthorized;
        case core::ErrorCode::kForbidden:
            return http::Status::forbidden;
        case core::ErrorCode::kUnknownSource:
        case core::ErrorCode::kNotFound:
            return http::Status::not_found;
        case core::ErrorCode::kMethodNotAllowed:
            return http::Status::method_not_allowed;
        case core::ErrorCode::kPayloadTooLarge:
            return http::Status::payload_too_large;
        case core::ErrorCode::kUnsupportedMediaType:
            return http::Status::unsupported_media_type;
        case core::ErrorCode::kRateLimited:
            return http::Status::too_many_requests;
        case core::ErrorCode::kUnavailable:
            return http::Status::service_unavailable;
        case core::ErrorCode::kConflict:
            return http::Status::conflict;
        case core::ErrorCode::kInternal:
            return http::Status::internal_server_error;
    }
    return http::Status::internal_server_error;
}

http::Response Gateway::error_response(const core::Error& e, unsigned version) {
    auto res = http::error_response(status_of(e.code), core::error_code_name(e.code), e.message,
                                    e.field, version);
    if (e.code == core::ErrorCode::kUnauthorized)
        res.set(bhttp::field::www_authenticate, "Bearer");
    return res;
}

void Gateway::count(http::Status status) {
    const int code = static_cast<int>(status);
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == code) {
            response_series_[i]->add(1);
            return;
        }
    }
    responses_.inc({std::to_string(code)});
}

asio::awaitable<http::Response> Gateway::handle(http::Request& req) {
    requests_.inc();
    const std::string_view target = req.target();
    const auto qpos = target.find('?');
    const std::string path(target.substr(0, qpos));
    const std::string query(qpos == std::string_view::npos ? std::string_view{}
                                                           : target.substr(qpos + 1));
    http::Response res;
    if (path == "/healthz") {
        res = http::json_response(http::Status::ok, R"({"status":"ok"})", req.version());
    } else if (path == "/readyz") {
        res = readyz(req.version());
    } else if (path == "/metrics") {
        res = metrics(req.version());
    } else if (path.rfind("/v1/events/", 0) == 0) {
        const std::string name = path.substr(11);
        const config::Source* source = config_.find_source(name);
        if (req.method() != bhttp::verb::post) {
            res = reject(source ? source->name : "",
                         {core::ErrorCode::kMethodNotAllowed, "use POST", ""}, req.version());
            res.set(bhttp::field::allow, "POST");
        } else if (source == nullptr) {
            res = reject("",
                         {core::ErrorCode::kUnknownSource,
                          "unknown source '" + name.substr(0, 64) + "'", ""},
                         req.version());
        } else {
            res = co_await ingest(req, *source, query, false);
        }
    } else if (path == "/v2/enqueue") {
        res = co_await enqueue(req);
    } else if (path.rfind("/v1/chatops/", 0) == 0) {
        res = co_await chat(req, path.substr(12));
    } else if (const auto asset = std::find_if(kAssets.begin(), kAssets.end(),
                                               [&](const Asset& a) { return path == a.path; });
               asset != kAssets.end()) {
        // The board's files, after the ingest routes: those stay the shortest way through.
        if (req.method() == bhttp::verb::get) {
            res = asset_response(*asset, req.version());
        } else {
            res =
                error_response({core::ErrorCode::kMethodNotAllowed, "use GET", ""}, req.version());
            res.set(bhttp::field::allow, "GET");
        }
    } else {
        std::optional<http::Response> api = co_await api_.handle(req, path, query);
        if (api) {
            res = std::move(*api);
        } else {
            res =
                error_response({core::ErrorCode::kNotFound, "no such endpoint", ""}, req.version());
        }
    }
    count(res.result());
    co_return res;
}

std::optional<http::Response> Gateway::prepare_ingest(http::Request& req,
                                                      const config::Source& source,
                                                      const std::string& query, bool pagerduty_api,
                                                      Prepared& out) {
    const unsigned version = req.version();
    const std::string& body = req.body();
    if (body.size() > source.max_body) {
        return reject(
            source.name,
            {core::ErrorCode::kPayloadTooLarge,
             "body of " + std::to_string(body.size()) + " bytes exceeds the source's limit of " +
                 std::to_string(source.max_body),
             ""},
            version);
    }
    const ingest::HeaderMap headers = headers_of(req);
    const core::TimePoint now = clock_.now();
    if (!pagerduty_api) {
        if (auto ok = ingest::authenticate(source.auth, ingest::Request{headers, body, query}, now);
            !ok) {
            return reject(source.name, ok.error(), version);
        }
    }
    const PerSource& per = per_source_.at(source.name);
    std::int64_t retry_after = 1;
    if (!per.limiter->try_acquire(now, &retry_after)) {
        auto res = reject(source.name,
                          {core::ErrorCode::kRateLimited,
                           "rate limit of source '" + source.name + "' exceeded", ""},
                          version);
        res.set(bhttp::field::retry_after, std::to_string(retry_after));
        return res;
    }
    if (auto ct = headers.get("content-type"); ct && !json_content_type(*ct)) {
        return reject(source.name,
                      {core::ErrorCode::kUnsupportedMediaType,
                       "content type '" + std::string(ct->substr(0, 64)) + "' is not JSON", ""},
                      version);
    }
    auto parsed = ingest::parse_json(body, ingest::ParseLimits{options_.max_json_depth});
    if (!parsed)
        return reject(source.name, parsed.error(), version);
    if (source.format == ingest::Format::kGeneric) {
        if (auto ok = event_schema_.validate(*parsed); !ok)
            return reject(source.name, ok.error(), version);
    }
    auto adapted = ingest::adapt(source.format, *parsed, headers,
                                 ingest::AdaptContext{source.name, source.tenant, now});
    if (!adapted)
        return reject(source.name, adapted.error(), version);
    std::vector<core::Event>& events = adapted.value();
    if (events.empty()) {
        return reject(source.name, core::Error::invalid_field("", "the payload holds no event"),
                      version);
    }
    std::vector<amqp::Message>& messages = out.messages;
    messages.reserve(events.size());
    json& ids = out.ids;
    ids = json::array();
    // The generic body passed the event schema above, and the generic adapter keeps every field
    // within it (finish() clamps lengths, enums come from their tables, labels become strings,
    // empty assets are dropped); what the loop below sets (a UUID or the validated id, the
    // source's tenant and name, received_at, exercise) fits when fits_event_schema() held. The
    // safety net is then redundant: skipped in Release, checked by assertion in Debug builds.
    const bool canonical_fits = source.format == ingest::Format::kGeneric && per.canonical_fits &&
                                now >= 0 && now <= kLastFormattable;
    for (auto& e : events) {
        if (e.id.empty())
            e.id = crypto::uuid_v4();
        e.source = source.name;
        e.tenant = source.tenant;
        e.received_at = now;
        e.exercise = e.exercise || source.exercise;
        if (e.dedup_key.empty())
            e.dedup_key = e.id;
        // to_json() copies `raw` (for the generic format the whole posted event); the event is
        // done with it, so it moves in instead. Keys are sorted: the dump is the same.
        json raw = std::move(e.raw);
        e.raw = nullptr;
        json j = core::to_json(e);
        if (!raw.is_null())
            j["raw"] = std::move(raw);
        // Safety net: whatever an adapter produced must be a valid canonical event.
        if (!canonical_fits) {
            if (auto ok = event_schema_.validate(j); !ok)
                return reject(source.name, ok.error(), version);
        } else {
            assert(event_schema_.validate(j));
        }
        amqp::Message m;
        m.exchange = options_.topology.exchange();
        m.routing_key = "events";
        m.message_id = e.id;
        m.type = "event";
        m.batch_type = core::wire::kTypeEvents;  // may travel with others (coalesce.hpp)
        m.headers = {{"tenant", e.tenant}, {"source", e.source}};
        m.body = j.dump();
        messages.push_back(std::move(m));
        ids.push_back(e.id);
    }
    out.dedup_key = events.front().dedup_key;
    out.accepted = per.accepted;
    return std::nullopt;
}

asio::awaitable<http::Response> Gateway::ingest(http::Request& req, const config::Source& source,
                                                const std::string& query, bool pagerduty_api) {
    // The work before and after the publish runs in plain functions: a coroutine's frame holds
    // every local of its body, and a frame over about 1 KiB is not recycled by Asio but
    // malloc'ed for every request (with glibc consolidating its fast bins each time).
    Prepared prepared;
    if (std::optional<http::Response> refused =
            prepare_ingest(req, source, query, pagerduty_api, prepared))
        co_return std::move(*refused);
    const metrics::Stopwatch confirm_time;
    amqp::PublishOutcome outcome =
        co_await async_publish(publisher_, std::move(prepared.messages), asio::use_awaitable);
    co_return finish_ingest(source, pagerduty_api, req.version(), prepared, outcome,
                            confirm_time.seconds());
}

http::Response Gateway::finish_ingest(const config::Source& source, bool pagerduty_api,
                                      unsigned version, const Prepared& prepared,
                                      const amqp::PublishOutcome& outcome, double confirm_s) {
    const json& ids = prepared.ids;
    const std::size_t n = ids.size();
    if (!outcome.ok) {
        const log::Scope scope{{"event", ids.front().get<std::string>()}};
        spdlog::warn("ingest {}: not accepted: {}", source.name, outcome.error);
        auto res = reject(
            source.name,
            {core::ErrorCode::kUnavailable, "the message broker is unavailable; retry later", ""},
            version);
        res.set(bhttp::field::retry_after, std::to_string(options_.retry_after_s));
        return res;
    }
    publish_confirm_.observe(confirm_s);
    events_accepted_all_->add(static_cast<double>(n));
    prepared.accepted->add(static_cast<double>(n));
    json body_out = pagerduty_api ? json{{"status", "success"},
                                         {"message", "Event processed"},
                                         {"dedup_key", prepared.dedup_key}}
                                  : json{{"accepted", n}, {"event_ids", ids}};
    return http::json_response(http::Status::accepted, body_out.dump(), version);
}

asio::awaitable<http::Response> Gateway::enqueue(http::Request& req) {
    const unsigned version = req.version();
    auto invalid = [&](const core::Error& e) {
        rejected_.inc({"", std::string(core::error_code_name(e.code))});
        // PagerDuty's own shape, plus sonae's error object.
        const json body = {
            {"status", "invalid event"},
            {"message", "Event object is invalid"},
            {"errors", json::array({e.message})},
            {"error", http::error_object(core::error_code_name(e.code), e.message, e.field)}};
        return http::json_response(status_of(e.code), http::dump_json(body), version);
    };
    if (req.method() != bhttp::verb::post) {
        auto res = invalid({core::ErrorCode::kMethodNotAllowed, "use POST", ""});
        res.set(bhttp::field::allow, "POST");
        co_return res;
    }
    auto parsed = ingest::parse_json(req.body(), ingest::ParseLimits{options_.max_json_depth});
    if (!parsed)
        co_return invalid(parsed.error());
    if (!parsed->is_object())
        co_return invalid(core::Error::invalid_field("", "event must be a JSON object"));
    auto rk = parsed->find("routing_key");
    if (rk == parsed->end() || !rk->is_string() || rk->get<std::string>().empty()) {
        co_return reject(
            "", {core::ErrorCode::kUnauthorized, "missing routing_key", "/routing_key"}, version);
    }
    const config::Source* source = config_.find_source_by_routing_key(rk->get<std::string>());
    if (source == nullptr) {
        co_return reject(
            "", {core::ErrorCode::kUnauthorized, "unknown routing_key", "/routing_key"}, version);
    }
    if (source->format != ingest::Format::kPagerDuty) {
        co_return invalid(core::Error::invalid_field(
            "/routing_key", "routing key belongs to a non-PagerDuty source"));
    }
    co_return co_await ingest(req, *source, "", true);
}

http::Response Gateway::readyz(unsigned version) const {
    const bool broker = publisher_.connected();
    const bool redis = health_.redis.load();
    const bool draining = health_.draining.load();
    const bool ready = broker && redis && !draining;
    const json body = {{"status", draining ? "draining"
                                  : ready  ? "ready"
                                           : "not ready"},
                       {"broker", broker},
                       {"redis", redis}};
    return http::json_response(ready ? http::Status::ok : http::Status::service_unavailable,
                               body.dump(), version);
}

http::Response Gateway::metrics(unsigned version) const {
    return service::metrics_response(registry_, version);
}

}  // namespace sonae::gateway
