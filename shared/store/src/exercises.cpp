#include <algorithm>
#include <cstdio>
#include <optional>

#include <sonae/core/timer_id.hpp>
#include <sonae/store/exercises.hpp>

namespace sonae::store {
namespace {

using nlohmann::json;

// KEYS[1] exercise hash; ARGV[1] now. Returns the state after the call.
const redis::Script kPause(R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'running' then return state end
redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_at', ARGV[1])
return 'paused'
)lua");

// KEYS[1] exercise hash, KEYS[2] parked timers, KEYS[3] timers; ARGV[1] now.
const redis::Script kResume(R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'paused' then return state end
local paused_at = tonumber(redis.call('HGET', KEYS[1], 'paused_at'))
local total = tonumber(redis.call('HGET', KEYS[1], 'paused_total'))
local now = tonumber(ARGV[1])
if now > paused_at then total = total + now - paused_at end
redis.call('HSET', KEYS[1], 'state', 'running', 'paused_at', 0, 'paused_total', total)
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  redis.call('ZADD', KEYS[3], now, member)
end
redis.call('DEL', KEYS[2])
return 'running'
)lua");

// KEYS[1] exercise hash, KEYS[2] parked timers; ARGV[1] now.
const redis::Script kStop(R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state == 'stopped' then return state end
if state == 'paused' then
  local paused_at = tonumber(redis.call('HGET', KEYS[1], 'paused_at'))
  local total = tonumber(redis.call('HGET', KEYS[1], 'paused_total'))
  redis.call('HSET', KEYS[1], 'paused_total', total + tonumber(ARGV[1]) - paused_at,
             'paused_at', 0)
end
redis.call('HSET', KEYS[1], 'state', 'stopped', 'stopped_at', ARGV[1])
redis.call('DEL', KEYS[2])
return 'stopped'
)lua");

std::int64_t to_int(const redis::Reply& r) {
    return r.is_nil() ? 0 : std::stoll(r.str());
}

std::optional<core::ExerciseState> state_of(const redis::Reply& r) {
    if (r.is_nil())
        return std::nullopt;
    return core::parse_exercise_state(r.str());
}

}  // namespace

Exercise ExerciseStore::create(const std::string& tenant, const std::string& day, json meta,
                               json plan, double speed, core::TimePoint now) {
    const long long n = redis_.command({"INCR", keys_.sequence(tenant, "ex-" + day)}).integer();
    char seq[32];
    std::snprintf(seq, sizeof seq, "%04lld", n);
    Exercise x;
    x.tenant = tenant;
    x.id = "ex-" + day + "-" + seq;
    meta["id"] = x.id;
    meta["tenant"] = tenant;
    x.meta = std::move(meta);
    x.plan = std::move(plan);
    x.clock.started_at = now;
    x.clock.speed = speed;
    const std::string key = keys_.exercise(tenant, x.id);
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"MULTI"});
    cmds.push_back({"HSET", key, "meta", x.meta.dump(), "state", "running", "started_at",
                    std::to_string(now), "speed", std::to_string(speed), "paused_total", "0",
                    "paused_at", "0", "stopped_at", "0"});
    std::vector<std::string> rpush{"RPUSH", keys_.exercise_plan(tenant, x.id)};
    for (const auto& item : x.plan)
        rpush.push_back(item.dump());
    if (rpush.size() > 2)
        cmds.push_back(rpush);
    std::vector<std::string> zadd{"ZADD", keys_.timers()};
    std::optional<core::TimePoint> first;
    for (std::size_t i = 0; i < x.plan.size(); ++i) {
        const core::TimePoint wall =
            x.clock.wall_time(now + x.plan[i].value("at", core::Duration{0}));
        first = std::min(first.value_or(wall), wall);
        zadd.push_back(std::to_string(wall));
        zadd.push_back(TimerMember{x.ns(), x.id, core::TimerId::inject(std::to_string(i))}.str());
    }
    if (first) {
        cmds.push_back(zadd);
        // Sleeping timer threads wake for the first inject (store.hpp, wake_timers).
        cmds.push_back({"PUBLISH", keys_.timer_wake(), std::to_string(*first)});
    }
    cmds.push_back({"ZADD", keys_.exercises(tenant), std::to_string(now), x.id});
    cmds.push_back({"EXEC"});
    const auto replies = redis_.pipeline(cmds);
    if (replies.back().is_nil())
        throw redis::Error("exercise " + x.id + ": the transaction was aborted");
    return x;
}

std::optional<Exercise> ExerciseStore::load(const std::string& tenant, const std::string& id,
                                            bool with_plan) {
    std::vector<std::vector<std::string>> cmds{{"HMGET", keys_.exercise(tenant, id), "meta",
                                                "state", "started_at", "speed", "paused_total",
                                                "paused_at", "stopped_at"}};
    if (with_plan)
        cmds.push_back({"LRANGE", keys_.exercise_plan(tenant, id), "0", "-1"});
    const auto replies = redis_.pipeline(cmds);
    const auto& f = replies[0].elements();
    if (f.size() < 7 || f[0].is_nil())
        return std::nullopt;
    Exercise x;
    x.tenant = tenant;
    x.id = id;
    x.meta = json::parse(f[0].str());
    x.clock.state = state_of(f[1]).value_or(core::ExerciseState::kStopped);
    x.clock.started_at = to_int(f[2]);
    x.clock.speed = f[3].is_nil() ? 1.0 : std::stod(f[3].str());
    x.clock.paused_total = to_int(f[4]);
    x.clock.paused_at = to_int(f[5]);
    x.stopped_at = to_int(f[6]);
    if (with_plan) {
        for (const auto& item : replies[1].elements())
            x.plan.push_back(json::parse(item.str()));
    }
    return x;
}

std::optional<json> ExerciseStore::plan_item(const std::string& tenant, const std::string& id,
                                             std::size_t n) {
    auto r = redis_.command({"LINDEX", keys_.exercise_plan(tenant, id), std::to_string(n)});
    if (r.is_nil())
        return std::nullopt;
    return json::parse(r.str());
}

std::optional<core::ExerciseClock> ExerciseStore::clock(const std::string& ns) {
    const auto exercise = core::exercise_of(ns);
    if (!exercise)
        return std::nullopt;
    auto x = load(core::base_tenant(ns), *exercise, false);
    if (!x)
        return std::nullopt;
    return x->clock;
}

std::vector<Exercise> ExerciseStore::list(const std::string& tenant) {
    std::vector<Exercise> out;
    for (const auto& id :
         redis_.command({"ZREVRANGE", keys_.exercises(tenant), "0", "-1"}).elements()) {
        if (auto x = load(tenant, id.str(), false))
            out.push_back(std::move(*x));
    }
    return out;
}

std::optional<core::ExerciseState> ExerciseStore::pause(const std::string& tenant,
                                                        const std::string& id,
                                                        core::TimePoint now) {
    return state_of(redis_.eval(kPause, {keys_.exercise(tenant, id)}, {std::to_string(now)}));
}

std::optional<core::ExerciseState> ExerciseStore::resume(const std::string& tenant,
                                                         const std::string& id,
                                                         core::TimePoint now) {
    const std::string ns = core::exercise_namespace(tenant, id);
    auto state = state_of(
        redis_.eval(kResume, {keys_.exercise(tenant, id), keys_.parked_timers(ns), keys_.timers()},
                    {std::to_string(now)}));
    // Parked timers are due again: wake the timer threads.
    redis_.command({"PUBLISH", keys_.timer_wake(), std::to_string(now)});
    return state;
}

std::optional<core::ExerciseState> ExerciseStore::stop(const std::string& tenant,
                                                       const std::string& id, core::TimePoint now) {
    const std::string ns = core::exercise_namespace(tenant, id);
    return state_of(redis_.eval(kStop, {keys_.exercise(tenant, id), keys_.parked_timers(ns)},
                                {std::to_string(now)}));
}

void ExerciseStore::park(const std::string& ns, const std::string& member, core::TimePoint due) {
    redis_.command({"ZADD", keys_.parked_timers(ns), std::to_string(due), member});
}

void ExerciseStore::reschedule(const std::string& member, core::TimePoint wall) {
    redis_.pipeline({{"ZADD", keys_.timers(), std::to_string(wall), member},
                     {"PUBLISH", keys_.timer_wake(), std::to_string(wall)}});
}

}  // namespace sonae::store
