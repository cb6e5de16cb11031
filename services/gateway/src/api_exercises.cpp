// Live drills over the REST API (PRODUCT §11): start one from a scenario, see it, pause, resume
// or stop it, and read its after-action report. The drill's record and plan are written here
// (store/exercises.hpp); the orchestrator's timers fire its injects on the drill clock.
#include <algorithm>
#include <limits>
#include <variant>

#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <sonae/core/exercise.hpp>
#include <sonae/core/wire.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/sim/drill.hpp>
#include <sonae/sim/report.hpp>
#include <sonae/store/exercises.hpp>
#include <sonae/store/store.hpp>

#include "api.hpp"
#include "api_reply.hpp"
#include "async.hpp"
#include "redis_worker.hpp"

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

constexpr double kMaxSpeed = 100000;
constexpr std::size_t kMaxPlanItems = 10000;

http::Response no_exercise(const std::string& id, unsigned version) {
    return error(core::ErrorCode::kNotFound, "no exercise " + id.substr(0, 80), version);
}

json exercise_json(const store::Exercise& x, core::TimePoint now) {
    const core::TimePoint drill_now = x.clock.drill_time(x.stopped_at != 0 ? x.stopped_at : now);
    json j = {{"id", core::public_exercise_id(x.tenant, x.id)},
              {"tenant", x.tenant},
              {"scenario", x.meta.value("scenario", "")},
              {"title", x.meta.value("title", "")},
              {"state", core::to_string(x.clock.state)},
              {"speed", x.clock.speed},
              {"fill_in", x.meta.value("fill_in", json::array())},
              {"started_by", x.meta.value("started_by", "")},
              {"started_at", core::format_timestamp(x.clock.started_at)},
              {"drill_time", core::format_timestamp(drill_now)},
              {"elapsed_drill_seconds", (drill_now - x.clock.started_at) / core::kSecond},
              {"stopped_at",
               x.stopped_at != 0 ? json(core::format_timestamp(x.stopped_at)) : json(nullptr)}};
    return j;
}

// What a report or a status needs from Redis: the drill and its incidents with timelines.
struct DrillState {
    store::Exercise exercise;
    std::vector<core::Incident> incidents;  // opening order
    std::vector<std::vector<json>> timelines;
    std::vector<json> own_timeline;  // injects to players, self-test deliveries
};

std::vector<json> parse_entries(const std::vector<std::string>& stored) {
    std::vector<json> out;
    for (const auto& s : stored) {
        json e = json::parse(s, nullptr, false);
        if (!e.is_discarded())
            out.push_back(std::move(e));
    }
    return out;
}

std::optional<DrillState> read_drill(redis::Connection& c, const store::Keys& keys,
                                     const std::string& tenant, const std::string& id,
                                     bool timelines) {
    auto x = store::ExerciseStore(c, keys).load(tenant, id);
    if (!x)
        return std::nullopt;
    DrillState d;
    d.exercise = std::move(*x);
    const std::string ns = d.exercise.ns();
    store::IncidentStore s(c, keys);
    std::vector<std::string> ids;
    for (const auto& [inc, opened] :
         s.incidents_before(ns, std::numeric_limits<core::TimePoint>::max(), 0, 1000))
        ids.insert(ids.begin(), inc);  // newest first there
    d.incidents = s.load_many(ns, ids);
    constexpr std::int64_t kMaxEntries = 100000;
    if (timelines) {
        for (const auto& i : d.incidents)
            d.timelines.push_back(parse_entries(s.timeline_page(ns, i.id, 0, kMaxEntries).first));
    }
    d.own_timeline = parse_entries(s.timeline_page(ns, d.exercise.id, 0, kMaxEntries).first);
    return d;
}

// The drill `ref` (tenant, id) read from Redis, or the answer when Redis cannot be read (503)
// or there is no such drill (404). Arguments by value: they outlive the caller's co_await.
asio::awaitable<std::variant<DrillState, http::Response>> fetch_drill(
    RedisWorker& redis, store::Keys keys, std::pair<std::string, std::string> ref, bool timelines,
    std::string id, unsigned version) {
    std::function<std::optional<DrillState>(redis::Connection&)> read =
        [keys, ref, timelines](redis::Connection& c) {
            return read_drill(c, keys, ref.first, ref.second, timelines);
        };
    auto found =
        co_await redis.async_run<std::optional<DrillState>>(std::move(read), asio::use_awaitable);
    if (!found)
        co_return redis_down(version);
    if (!*found)
        co_return no_exercise(id, version);
    co_return std::move(**found);
}

}  // namespace

asio::awaitable<http::Response> Api::start_exercise(const api::Principal& who,
                                                    const std::string& body, unsigned version) {
    if (who.permission() < core::Permission::kCommander)
        co_return error(
            core::ErrorCode::kForbidden,
            "starting a drill needs the commander role; the token's role is " + who.role, version);
    if (scenario_schema_ == nullptr)
        co_return error(core::ErrorCode::kUnavailable, "drills are not configured here", version);
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
        co_return error(core::ErrorCode::kInvalidJson, "the body is not JSON", version);
    if (!j.is_object() || !j.contains("scenario") || !j["scenario"].is_string())
        co_return error(core::ErrorCode::kInvalidField,
                        "the scenario YAML is required: {\"scenario\": \"<YAML text>\"}", version,
                        "/scenario");
    double speed = 1;
    if (j.contains("speed")) {
        if (!j["speed"].is_number() || j["speed"].get<double>() < 1 ||
            j["speed"].get<double>() > kMaxSpeed)
            co_return error(core::ErrorCode::kInvalidField,
                            "speed: a number from 1 to " + std::to_string(int(kMaxSpeed)), version,
                            "/speed");
        speed = j["speed"].get<double>();
    }
    std::vector<std::string> fill_in;
    if (j.contains("fill_in")) {
        bool valid = j["fill_in"].is_array();
        for (const auto& p : valid ? j["fill_in"] : json::array())
            valid = valid && p.is_string();
        if (!valid)
            co_return error(core::ErrorCode::kInvalidField,
                            "fill_in: a list of the scenario's players (or \"all\")", version,
                            "/fill_in");
        fill_in = j["fill_in"].get<std::vector<std::string>>();
    }
    std::string tenant = who.tenant;
    if (j.contains("tenant")) {
        if (!j["tenant"].is_string() || !api::valid_tenant(j["tenant"].get<std::string>()))
            co_return error(core::ErrorCode::kInvalidField, "tenant: a tenant name", version,
                            "/tenant");
        tenant = j["tenant"].get<std::string>();
        if (!who.sees(tenant))
            co_return error(core::ErrorCode::kForbidden,
                            "the token cannot start a drill for tenant " + tenant, version,
                            "/tenant");
    }
    const core::Library* lib = library(tenant);
    if (lib == nullptr)
        co_return error(core::ErrorCode::kInvalidField, "no playbooks for tenant " + tenant,
                        version, "/tenant");
    const std::string file = j.value("file", std::string("scenario.yaml"));
    auto doc = core::parse_yaml(j["scenario"].get<std::string>(), file);
    if (!doc)
        co_return error(core::ErrorCode::kInvalidField, doc.error().message, version, "/scenario");
    auto scenario = sim::parse_scenario(*doc, file, *scenario_schema_);
    if (!scenario)
        co_return error(core::ErrorCode::kInvalidField, scenario.error().message, version,
                        "/scenario");
    json plan = sim::drill_plan(*scenario);
    if (plan.size() > kMaxPlanItems)
        co_return error(core::ErrorCode::kInvalidField,
                        "the scenario has more than " + std::to_string(kMaxPlanItems) +
                            " injects and player actions",
                        version, "/scenario");
    for (const auto& p : fill_in) {
        bool known = p == "all";
        for (const auto& a : scenario->players)
            known = known || a.as == p;
        if (!known)
            co_return error(core::ErrorCode::kInvalidField,
                            "fill_in: the scenario has no player '" + p + "'", version, "/fill_in");
    }
    if (redis_ == nullptr)
        co_return redis_down(version);

    // The channels that may receive drill traffic: the tenant's allow-list.
    std::vector<std::string> channels;
    for (const auto& ch : config_.channels) {
        if (ch.tenant == tenant && ch.exercise)
            channels.push_back(ch.name);
    }
    const core::TimePoint now = clock_.now();
    const json meta = {
        {"scenario", scenario->id}, {"title", scenario->title},        {"file", file},
        {"fill_in", fill_in},       {"started_by", "api:" + who.name}, {"channels", channels},
        {"document", doc->value}};
    const std::string day = core::format_yyyymmdd(now, lib->catalog.utc_offset_minutes);
    const store::Keys keys = keys_;
    std::function<store::Exercise(redis::Connection&)> create =
        [keys, tenant, day, meta, plan = std::move(plan), speed, now](redis::Connection& c) {
            return store::ExerciseStore(c, keys).create(tenant, day, meta, plan, speed, now);
        };
    auto x = co_await redis_->async_run<store::Exercise>(std::move(create), asio::use_awaitable);
    if (!x)
        co_return redis_down(version);

    // A self-test to every allow-listed channel, so the facilitator sees before the first
    // inject that each one receives (its delivery lands in the drill's timeline).
    core::Notification test;
    test.id = x->ns() + ":" + x->id + ":self-test";
    test.tenant = x->ns();
    test.incident_id = x->id;
    test.kind = "self_test";
    test.title = lib->messages.get("exercise_prefix") + scenario->title;
    test.text = "self-test of drill " + core::public_exercise_id(tenant, x->id) +
                ": this channel will receive the drill's messages";
    test.channels = channels;
    test.exercise = true;
    test.at = now;
    std::vector<amqp::Message> messages;
    if (!channels.empty()) {
        const core::OutboxEntry o = core::OutboxEntry::of(test);
        messages.push_back(topology_.message(o.routing_key, o.message_id, o.type, o.body, x->ns()));
    }
    amqp::PublishOutcome outcome{true, ""};
    if (!messages.empty())
        outcome = co_await async_publish(publisher_, std::move(messages), asio::use_awaitable);
    if (!outcome.ok)
        spdlog::warn("drill {}: self-test not sent: {}", x->id, outcome.error);
    spdlog::info("drill {} of {} started by {} at speed {}", x->id, scenario->id, who.name, speed);
    json out = exercise_json(*x, now);
    out["plan_items"] = x->plan.size();
    out["self_test"] = {{"channels", channels}, {"sent", outcome.ok}};
    auto res = ok(out, version, http::Status::created);
    res.set(boost::beast::http::field::location,
            "/v1/exercises/" + core::public_exercise_id(tenant, x->id));
    co_return res;
}

asio::awaitable<http::Response> Api::list_exercises(const api::Principal& who, const Params& query,
                                                    unsigned version) {
    auto tenants = tenants_for(who, query);
    if (!tenants)
        co_return Gateway::error_response(tenants.error(), version);
    if (redis_ == nullptr)
        co_return redis_down(version);
    const store::Keys keys = keys_;
    const std::vector<std::string> ts = *tenants;
    std::function<std::vector<store::Exercise>(redis::Connection&)> list =
        [keys, ts](redis::Connection& c) {
            std::vector<store::Exercise> out;
            for (const auto& t : ts) {
                for (auto& x : store::ExerciseStore(c, keys).list(t))
                    out.push_back(std::move(x));
            }
            return out;
        };
    auto found = co_await redis_->async_run<std::vector<store::Exercise>>(std::move(list),
                                                                          asio::use_awaitable);
    if (!found)
        co_return redis_down(version);
    json items = json::array();
    const core::TimePoint now = clock_.now();
    for (const auto& x : *found)
        items.push_back(exercise_json(x, now));
    co_return ok({{"exercises", items}}, version);
}

asio::awaitable<http::Response> Api::exercise(const api::Principal& who, const std::string& id,
                                              unsigned version) {
    const auto ref = core::parse_public_exercise_id(id);
    if (!ref || !who.sees(ref->first))
        co_return no_exercise(id, version);
    if (redis_ == nullptr)
        co_return redis_down(version);
    auto found = co_await fetch_drill(*redis_, keys_, *ref, false, id, version);
    if (auto* answer = std::get_if<http::Response>(&found))
        co_return std::move(*answer);
    const DrillState& d = std::get<DrillState>(found);
    const core::TimePoint now = clock_.now();
    json out = exercise_json(d.exercise, now);
    const core::TimePoint drill_now =
        d.exercise.clock.drill_time(d.exercise.stopped_at != 0 ? d.exercise.stopped_at : now);
    std::size_t due = 0;
    for (const auto& item : d.exercise.plan)
        due += d.exercise.clock.started_at + item.value("at", core::Duration{0}) <= drill_now;
    out["plan_items"] = d.exercise.plan.size();
    out["plan_items_due"] = due;
    json incidents = json::array();
    for (const auto& i : d.incidents)
        incidents.push_back(api::incident_summary(i, drill_now, playbook_of(i)));
    out["incidents"] = incidents;
    out["timeline"] = d.own_timeline;
    co_return ok(out, version);
}

asio::awaitable<http::Response> Api::change_exercise(const api::Principal& who,
                                                     const std::string& id,
                                                     const std::string& change, unsigned version) {
    const auto ref = core::parse_public_exercise_id(id);
    if (!ref || !who.sees(ref->first))
        co_return no_exercise(id, version);
    if (who.permission() < core::Permission::kCommander)
        co_return error(core::ErrorCode::kForbidden,
                        change + " needs the commander role; the token's role is " + who.role,
                        version);
    if (redis_ == nullptr)
        co_return redis_down(version);
    const store::Keys keys = keys_;
    const auto [tenant, xid] = *ref;
    const core::TimePoint now = clock_.now();
    using Changed = std::optional<store::Exercise>;
    std::function<Changed(redis::Connection&)> apply = [keys, tenant, xid, change,
                                                        now](redis::Connection& c) -> Changed {
        store::ExerciseStore s(c, keys);
        const auto state = change == "pause"    ? s.pause(tenant, xid, now)
                           : change == "resume" ? s.resume(tenant, xid, now)
                                                : s.stop(tenant, xid, now);
        if (!state)
            return std::nullopt;
        return s.load(tenant, xid, false);
    };
    auto changed = co_await redis_->async_run<Changed>(std::move(apply), asio::use_awaitable);
    if (!changed)
        co_return redis_down(version);
    if (!*changed)
        co_return no_exercise(id, version);
    const store::Exercise& x = **changed;
    const std::string want = change == "pause"    ? "paused"
                             : change == "resume" ? "running"
                                                  : "stopped";
    if (core::to_string(x.clock.state) != want)
        co_return error(
            core::ErrorCode::kConflict,
            "the drill is " + std::string(core::to_string(x.clock.state)) + "; it cannot " + change,
            version);
    spdlog::info("drill {}: {} by {}", xid, change, who.name);
    co_return ok(exercise_json(x, now), version);
}

asio::awaitable<http::Response> Api::exercise_report(const api::Principal& who,
                                                     const std::string& id, const Params& query,
                                                     unsigned version) {
    const auto ref = core::parse_public_exercise_id(id);
    if (!ref || !who.sees(ref->first))
        co_return no_exercise(id, version);
    auto it = query.find("lang");
    const auto lang = sim::parse_lang(it == query.end() ? "ja" : it->second);
    if (!lang)
        co_return error(core::ErrorCode::kInvalidField, "query parameter 'lang': ja or en", version,
                        "lang");
    if (redis_ == nullptr || scenario_schema_ == nullptr)
        co_return redis_down(version);
    auto found = co_await fetch_drill(*redis_, keys_, *ref, true, id, version);
    if (auto* answer = std::get_if<http::Response>(&found))
        co_return std::move(*answer);
    const DrillState& d = std::get<DrillState>(found);
    const auto& [tenant, xid] = *ref;
    const core::Library* lib = library(tenant);
    if (lib == nullptr)
        co_return no_exercise(id, version);
    // The scenario as it was started (its expectations score the drill).
    const json& document = d.exercise.meta["document"];
    core::LocatedJson doc;
    doc.value = document;
    auto scenario =
        sim::parse_scenario(doc, d.exercise.meta.value("file", "scenario.yaml"), *scenario_schema_);
    if (!scenario)
        co_return error(core::ErrorCode::kInternal, scenario.error().message, version);
    const core::TimePoint now = clock_.now();
    const core::TimePoint end =
        d.exercise.clock.drill_time(d.exercise.stopped_at != 0 ? d.exercise.stopped_at : now);
    sim::DrillLog log;
    log.start = d.exercise.clock.started_at;
    log.end = end;
    std::vector<sim::Record> records;
    for (std::size_t k = 0; k < d.incidents.size(); ++k) {
        records.push_back(sim::record_from_timeline(d.incidents[k], d.timelines[k]));
        for (const auto& e : records.back().timeline) {
            log.last_activity = std::max(log.last_activity, e.at);
            if (e.kind == "opened" || e.kind == "event")
                ++log.events;
            if (e.kind == "command" && e.data.value("refused", false))
                log.rejected_commands.push_back({{"at_seconds", (e.at - log.start) / core::kSecond},
                                                 {"command", e.data.value("command", "")},
                                                 {"error", e.data.value("reason", "")}});
        }
    }
    for (const auto& e : d.own_timeline) {
        if (e.value("kind", "") != "inject")
            continue;
        const core::TimePoint at = core::parse_timestamp(e.value("at", "")).value_or(log.start);
        log.messages.push_back(
            {{"at_seconds", (at - log.start) / core::kSecond},
             {"text", e.value("text", "")},
             {"to", e.value("data", json::object()).value("to", json::array())}});
    }
    json report = sim::build_report(*scenario, *lib->engine, records, log, *lang);
    report["exercise"] = core::public_exercise_id(tenant, xid);
    report["mode"] = "live";
    report["speed"] = d.exercise.clock.speed;
    co_return ok(report, version);
}

}  // namespace sonae::gateway
