// GET /v1/incidents/{id}/reports/{kind} (docs/reports.md): the first report, the PPC's
// preliminary and final reports and the post-incident review of one incident, as JSON, Markdown
// or self-contained HTML, built from the incident and its whole audited timeline in Redis with
// the tenant's playbooks and report templates. An incident of a tenant the token does not see is
// a 404, like every other read of it.
#include <limits>
#include <variant>

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include <sonae/core/exercise.hpp>
#include <sonae/report/report.hpp>
#include <sonae/sim/drill.hpp>
#include <sonae/store/exercises.hpp>
#include <sonae/store/store.hpp>

#include "api.hpp"
#include "api_reply.hpp"
#include "async.hpp"
#include "redis_worker.hpp"

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

// The incident, its timeline and the time its deadlines are judged at (a drill's own clock).
struct Stored {
    core::Incident incident;
    std::vector<json> timeline;
    core::TimePoint now = 0;
};

std::optional<Stored> read_incident(redis::Connection& c, const store::Keys& keys,
                                    const std::string& tenant, const std::string& id,
                                    core::TimePoint now) {
    store::IncidentStore s(c, keys);
    auto loaded = s.load(tenant, id);
    if (!loaded)
        return std::nullopt;
    Stored out;
    out.incident = std::move(loaded->incident);
    out.now = now;
    if (core::exercise_of(tenant)) {
        if (auto clock = store::ExerciseStore(c, keys).clock(tenant))
            out.now = clock->drill_time(now);
    }
    constexpr std::int64_t kMaxEntries = 100000;
    for (const auto& stored : s.timeline_page(tenant, id, 0, kMaxEntries).first) {
        json e = json::parse(stored, nullptr, false);
        if (e.is_object())
            out.timeline.push_back(std::move(e));
    }
    return out;
}

http::Response text_response(std::string body, const char* type, unsigned version) {
    http::Response res{http::Status::ok, version};
    res.set(bhttp::field::content_type, type);
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

}  // namespace

asio::awaitable<http::Response> Api::incident_report(const api::Principal& who,
                                                     const std::string& id,
                                                     const std::string& kind_name,
                                                     const Params& query, unsigned version) {
    if (auto only = only_params(query, {"format", "lang"}); !only)
        co_return Gateway::error_response(only.error(), version);
    const auto kind = report::parse_kind(kind_name);
    if (!kind)
        co_return error(core::ErrorCode::kInvalidField,
                        "report kind: first, ppc-preliminary, ppc-final or review", version,
                        "kind");
    auto it = query.find("format");
    const auto format = report::parse_format(it == query.end() ? "json" : it->second);
    if (!format)
        co_return error(core::ErrorCode::kInvalidField,
                        "query parameter 'format': json, markdown or html", version, "format");
    it = query.find("lang");
    const auto lang = sim::parse_lang(it == query.end() ? "ja" : it->second);
    if (!lang)
        co_return error(core::ErrorCode::kInvalidField, "query parameter 'lang': ja or en", version,
                        "lang");
    auto readable = incident_tenant(who, id, version);
    if (auto* answer = std::get_if<http::Response>(&readable))
        co_return std::move(*answer);
    const store::Keys keys = keys_;
    const std::string t = std::get<std::string>(readable);
    const core::TimePoint now = clock_.now();
    std::function<std::optional<Stored>(redis::Connection&)> read =
        [keys, t, id, now](redis::Connection& c) { return read_incident(c, keys, t, id, now); };
    auto found =
        co_await redis_->async_run<std::optional<Stored>>(std::move(read), asio::use_awaitable);
    if (!found)
        co_return redis_down(version);
    if (!*found)
        co_return no_incident(id, version);
    Stored& st = **found;
    const core::Library* lib = library(st.incident.tenant);
    report::Input in;
    in.record = sim::record_from_timeline(st.incident, st.timeline);
    in.engine = lib != nullptr ? lib->engine.get() : nullptr;
    in.now = st.now;
    const json built = report::build(*kind, in, *lang);
    const report::Templates templates(lib != nullptr ? &lib->report_templates : nullptr);
    switch (*format) {
        case report::Format::kMarkdown:
            co_return text_response(report::render_markdown(built, templates),
                                    "text/markdown; charset=utf-8", version);
        case report::Format::kHtml:
            co_return text_response(report::render_html(built, templates),
                                    "text/html; charset=utf-8", version);
        case report::Format::kJson:
            break;
    }
    co_return ok(built, version);
}

}  // namespace sonae::gateway
