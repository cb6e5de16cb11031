#include <algorithm>

#include <sonae/crypto/crypto.hpp>
#include <sonae/store/store.hpp>

namespace sonae::store {
namespace {

const redis::Script kCommit(R"lua(
-- KEYS: incident, timeline, timers, processed, outbox, outboxes, incidents, open, board stream
-- ARGV: expected version, state, processed ttl, incident id, opened_at, open flag, outbox member,
--       now, #timeline, #timer adds, #timer removals, #outbox, #dedup releases,
--       expected timeline head, new timeline head, then the lists, then the tenant and the timer
--       wake channel.
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if ver ~= tonumber(ARGV[1]) then return {0, ver} end
if ARGV[3] ~= '0' and redis.call('EXISTS', KEYS[4]) == 1 then return {2, ver} end
-- The timeline is a hash chain: the entries were chained from the head the caller saw.
local head = redis.call('HGET', KEYS[1], 'tlh') or ''
if head ~= ARGV[14] then return {3, head} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'ver', ver + 1, 'tlh', ARGV[15])
-- One command per kind of write, not one per item.
local i = 16
local args = {}
for k = 1, tonumber(ARGV[9]) do args[#args + 1] = ARGV[i]; i = i + 1 end
if #args > 0 then redis.call('RPUSH', KEYS[2], unpack(args)) end
args = {}
for k = 1, tonumber(ARGV[10]) do args[#args + 1] = ARGV[i + 1]; args[#args + 1] = ARGV[i]; i = i + 2 end
if #args > 0 then
  -- A deadline earlier than every pending one wakes the sleeping timer threads (ARGV[#ARGV] is
  -- the wake channel); later ones are found when the threads wake for the earlier head.
  local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  local earliest = tonumber(args[1])
  for k = 3, #args, 2 do earliest = math.min(earliest, tonumber(args[k])) end
  redis.call('ZADD', KEYS[3], unpack(args))
  if head[2] == nil or earliest < tonumber(head[2]) then
    redis.call('PUBLISH', ARGV[#ARGV], string.format('%d', earliest))
  end
end
args = {}
for k = 1, tonumber(ARGV[11]) do args[#args + 1] = ARGV[i]; i = i + 1 end
if #args > 0 then redis.call('ZREM', KEYS[3], unpack(args)) end
local n_out = tonumber(ARGV[12])
args = {}
for k = 1, n_out do args[#args + 1] = ARGV[i]; i = i + 1 end
if n_out > 0 then
  redis.call('RPUSH', KEYS[5], unpack(args))
  redis.call('ZADD', KEYS[6], ARGV[8], ARGV[7])
end
for k = 1, tonumber(ARGV[13]) do
  -- dedup keys hold the id, correlation groups "<id>|<last>"
  local v = redis.call('GET', ARGV[i])
  if v == ARGV[4] or (v and string.sub(v, 1, #ARGV[4] + 1) == ARGV[4] .. '|') then
    redis.call('DEL', ARGV[i])
  end
  i = i + 1
end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[4], '1', 'EX', ARGV[3]) end
redis.call('ZADD', KEYS[7], 'NX', ARGV[5], ARGV[4])
if ARGV[6] == '1' then redis.call('SADD', KEYS[8], ARGV[4]) else redis.call('SREM', KEYS[8], ARGV[4]) end
redis.call('XADD', KEYS[9], 'MAXLEN', '~', '1000', '*', 't', ARGV[#ARGV - 1], 'i', ARGV[4])
return {1, ver + 1}
)lua");

const redis::Script kPrepare(R"lua(
-- KEYS[1] processed marker, KEYS[2] dedup key, KEYS[3] day counter, KEYS[4] correlation group
-- ARGV[1] day, ARGV[2] create (1/0), ARGV[3] incident key prefix (standalone Redis: derived key),
-- ARGV[4] incident id prefix (the tenant's, core::incident_id_prefix), ARGV[5] now (ms, engine
-- time), ARGV[6] group window (ms; '0': no group)
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local id = redis.call('GET', KEYS[2])
local joined = 0
local grouped = ARGV[2] == '1' and ARGV[6] ~= '0'
local now = tonumber(ARGV[5])
local gid, last = nil, nil
if grouped then
  local g = redis.call('GET', KEYS[4])
  local bar = g and string.find(g, '|', 1, true)
  if bar then gid, last = string.sub(g, 1, bar - 1), tonumber(string.sub(g, bar + 1)) end
  if not id and gid and now - last <= tonumber(ARGV[6]) then
    id = gid
    joined = 1
    redis.call('SET', KEYS[2], id)
  end
end
if not id then
  if ARGV[2] ~= '1' then return {2} end
  local n = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], 172800)
  id = string.format('%sINC-%s-%04d', ARGV[4], ARGV[1], n)
  redis.call('SET', KEYS[2], id)
  gid = nil
  if grouped then redis.call('SET', KEYS[4], id .. '|' .. ARGV[5]) end
end
-- The group's window slides with every alert of its incident.
if grouped and gid == id and now > last then redis.call('SET', KEYS[4], id .. '|' .. ARGV[5]) end
local st = redis.call('HMGET', ARGV[3] .. id, 'state', 'ver', 'tlh')
return {0, id, st[1], st[2], st[3], joined}
)lua");

const redis::Script kAppend(R"lua(
-- A change of the timeline alone (deliveries, refusals, answers), chained like kCommit's.
-- KEYS: incident, timeline, processed, outbox, outboxes, board stream
-- ARGV: expected head, new head, processed ttl ('0': no marker), outbox member, now, #entries,
--       #outbox, then the entries and the outbox messages, then the tenant and the incident.
local head = redis.call('HGET', KEYS[1], 'tlh') or ''
if head ~= ARGV[1] then return {0, head} end
if ARGV[3] ~= '0' and redis.call('EXISTS', KEYS[3]) == 1 then return {2, head} end
local i = 8
local args = {}
for k = 1, tonumber(ARGV[6]) do args[#args + 1] = ARGV[i]; i = i + 1 end
if #args > 0 then
  redis.call('RPUSH', KEYS[2], unpack(args))
  redis.call('HSET', KEYS[1], 'tlh', ARGV[2])
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', '1000', '*', 't', ARGV[#ARGV - 1], 'i', ARGV[#ARGV])
end
args = {}
for k = 1, tonumber(ARGV[7]) do args[#args + 1] = ARGV[i]; i = i + 1 end
if #args > 0 then
  redis.call('RPUSH', KEYS[4], unpack(args))
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[4])
end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[3], '1', 'EX', ARGV[3]) end
return {1, ARGV[2]}
)lua");

const redis::Script kRelease(R"lua(
-- KEYS: the dedup key, optionally the correlation group; ARGV[1] the incident id
local n = 0
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v == ARGV[1] or (v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|') then
    n = n + redis.call('DEL', k)
  end
end
return n
)lua");

const redis::Script kLease(R"lua(
-- KEYS[1] timers, KEYS[2] leases; ARGV[1] now, ARGV[2] lease until, ARGV[3] limit,
-- ARGV[4] lease separator (keys.hpp)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for k = 1, #due, 2 do
  local member, score = due[k], due[k + 1]
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZADD', KEYS[2], ARGV[2], member .. ARGV[4] .. score)
  out[#out + 1] = member
  out[#out + 1] = score
end
-- The next deadline still pending, for the caller to sleep until.
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {out, head[2] or false}
)lua");

const redis::Script kRequeue(R"lua(
-- KEYS[1] timers, KEYS[2] leases; ARGV[1] now, ARGV[2] lease separator (keys.hpp)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, lease in ipairs(expired) do
  local at = string.find(lease, ARGV[2] .. '[^' .. ARGV[2] .. ']*$')
  local member, due = string.sub(lease, 1, at - 1), string.sub(lease, at + 1)
  redis.call('ZREM', KEYS[2], lease)
  redis.call('ZADD', KEYS[1], 'NX', due, member)
end
return #expired
)lua");

}  // namespace

nlohmann::json timeline_entry_json(const core::TimelineEntry& e) {
    return {{"at", core::format_timestamp(e.at)},
            {"kind", e.kind},
            {"actor", e.actor},
            {"text", e.text},
            {"data", e.data}};
}

std::string chained_entry(const core::TimelineEntry& e, const std::string& prev) {
    nlohmann::json j = timeline_entry_json(e);
    j["prev"] = prev;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string timeline_hash(std::string_view stored_entry) {
    return crypto::base64url_encode(crypto::sha256(stored_entry));
}

ChainCheck verify_chain(const std::vector<std::string>& stored, const std::string& head) {
    auto prev_of = [&](std::size_t i) {
        const nlohmann::json e = nlohmann::json::parse(stored[i], nullptr, false);
        return e.is_object() && e.contains("prev") && e["prev"].is_string()
                   ? e["prev"].get<std::string>()
                   : std::string("-");
    };
    // What follows entry i recorded as its hash: the next entry's prev, or the incident's head.
    auto recorded_after = [&](std::size_t i) {
        return i + 1 < stored.size() ? prev_of(i + 1) : head;
    };
    std::string expected_prev;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        if (prev_of(i) != expected_prev) {
            // Either entry i-1 changed (its hash moved) or entry i did (its prev). Had entry i
            // changed, what follows it would not match it either.
            const bool i_intact = recorded_after(i) == timeline_hash(stored[i]);
            const std::size_t bad = i > 0 && i_intact ? i - 1 : i;
            return {false, bad,
                    bad == i ? "its link to the entry before it was changed"
                             : "it was changed after the entry that follows it was written"};
        }
        expected_prev = timeline_hash(stored[i]);
    }
    if (expected_prev != head) {
        return {false, stored.empty() ? 0 : stored.size() - 1,
                stored.empty() ? "entries were removed"
                               : "it was changed after it was written (the incident records "
                                 "another hash for it)"};
    }
    return {true, 0, ""};
}

IncidentStore::IncidentStore(redis::Connection& redis, Keys keys)
    : redis_(redis), keys_(std::move(keys)) {}

bool IncidentStore::processed(const std::string& tenant, const std::string& id) {
    return redis_.command({"EXISTS", keys_.processed(tenant, id)}).integer() == 1;
}

bool IncidentStore::processed_key_exists(const std::string& key) {
    return redis_.command({"EXISTS", key}).integer() == 1;
}

void IncidentStore::mark(const std::string& key, std::int64_t ttl_s) {
    redis_.command({"SET", key, "1", "EX", std::to_string(ttl_s)});
}

IncidentStore::Prepared IncidentStore::prepare_event(const std::string& tenant,
                                                     const std::string& processed_id,
                                                     const std::string& dedup_key,
                                                     const std::string& day, bool create,
                                                     const Group& group) {
    const bool grouped = !group.key.empty() && group.window > 0;
    auto r = redis_.eval(
        kPrepare,
        {keys_.processed(tenant, processed_id), keys_.dedup(tenant, dedup_key),
         keys_.sequence(tenant, day), keys_.group(tenant, grouped ? group.key : "-")},
        {day, create ? "1" : "0", keys_.incident(tenant, ""), core::incident_id_prefix(tenant),
         std::to_string(group.now), grouped ? std::to_string(group.window) : "0"});
    const auto& e = r.elements();
    Prepared p;
    switch (e.at(0).integer()) {
        case 1:
            p.status = Prepared::Status::kAlreadyProcessed;
            return p;
        case 2:
            p.status = Prepared::Status::kNoIncident;
            return p;
        default:
            break;
    }
    p.status = Prepared::Status::kReady;
    p.incident_id = e.at(1).str();
    if (e.size() > 3 && !e[2].is_nil() && !e[3].is_nil()) {
        Loaded l;
        l.incident = core::incident_from_json(nlohmann::json::parse(e[2].str()));
        l.version = std::stoll(e[3].str());
        l.timeline_head = e.size() > 4 && !e[4].is_nil() ? e[4].str() : "";
        p.loaded = std::move(l);
    }
    p.joined = e.size() > 5 && e[5].integer() == 1;
    return p;
}

std::optional<Loaded> IncidentStore::load(const std::string& tenant, const std::string& id) {
    auto r = redis_.command({"HMGET", keys_.incident(tenant, id), "state", "ver", "tlh"});
    const auto& e = r.elements();
    if (e.at(0).is_nil())
        return std::nullopt;
    Loaded out;
    out.incident = core::incident_from_json(nlohmann::json::parse(e.at(0).str()));
    out.version = std::stoll(e.at(1).str());
    out.timeline_head = e.at(2).is_nil() ? "" : e.at(2).str();
    return out;
}

CommitOutcome IncidentStore::commit(const Commit& c) {
    const core::Transition& tr = *c.transition;
    const core::Incident& inc = tr.incident;
    std::vector<std::string> keys{
        keys_.incident(c.tenant, c.incident_id),
        keys_.timeline(c.tenant, c.incident_id),
        keys_.timers(),
        keys_.processed(c.tenant, c.processed_id.empty() ? "-" : c.processed_id),
        keys_.outbox(c.tenant, c.processed_id.empty() ? "-" : c.processed_id),
        keys_.outboxes(),
        keys_.incidents(c.tenant),
        keys_.open(c.tenant),
        keys_.board()};
    std::vector<std::string> adds, removes;
    for (const auto& t : tr.timers) {
        const std::string member = TimerMember{inc.tenant, inc.id, t.id}.str();
        if (t.cancel) {
            removes.push_back(member);
        } else {
            adds.push_back(member);
            adds.push_back(std::to_string(t.due));
        }
    }
    std::vector<std::string> args{
        std::to_string(c.expected_version),
        core::to_json(inc).dump(),
        c.processed_id.empty() ? "0" : std::to_string(c.processed_ttl_s),
        c.incident_id,
        std::to_string(inc.opened_at),
        inc.open() ? "1" : "0",
        OutboxMember{c.tenant, c.processed_id}.str(),
        std::to_string(c.now),
        std::to_string(tr.timeline.size()),
        std::to_string(adds.size() / 2),
        std::to_string(removes.size()),
        std::to_string(c.outbox.size()),
        std::to_string(c.release_dedup_keys.size() + (c.release_group.empty() ? 0 : 1)),
        "",
        ""};
    const std::size_t head_arg = args.size() - 2;
    const std::size_t first_entry = args.size();
    args.resize(args.size() + tr.timeline.size());
    args.insert(args.end(), adds.begin(), adds.end());
    args.insert(args.end(), removes.begin(), removes.end());
    for (const auto& m : c.outbox)
        args.push_back(core::to_json(m).dump());
    for (const auto& k : c.release_dedup_keys)
        args.push_back(keys_.dedup(c.tenant, k));
    if (!c.release_group.empty())
        args.push_back(keys_.group(c.tenant, c.release_group));
    args.push_back(c.tenant);
    args.push_back(keys_.timer_wake());
    // Chained from the head the caller loaded; when a delivery record or another writer moved
    // it meanwhile, the script says so and the entries are chained again from the new head.
    std::string head = c.timeline_head;
    for (int attempt = 0; attempt < 10; ++attempt) {
        args[head_arg] = head;
        std::string h = head;
        for (std::size_t k = 0; k < tr.timeline.size(); ++k) {
            args[first_entry + k] = chained_entry(tr.timeline[k], h);
            h = timeline_hash(args[first_entry + k]);
        }
        args[head_arg + 1] = h;
        auto r = redis_.eval(kCommit, keys, args);
        switch (r.elements().at(0).integer()) {
            case 1:
                return CommitOutcome::kCommitted;
            case 2:
                return CommitOutcome::kAlreadyProcessed;
            case 3:
                head = r.elements().at(1).str();
                continue;
            default:
                return CommitOutcome::kConflict;
        }
    }
    return CommitOutcome::kConflict;
}

std::string IncidentStore::timeline_head(const std::string& tenant, const std::string& incident) {
    auto r = redis_.command({"HGET", keys_.incident(tenant, incident), "tlh"});
    return r.is_nil() ? std::string{} : r.str();
}

namespace {

// kAppend's keys and arguments for entries chained onto `head`; the new head is args[1].
redis::Connection::EvalCall append_call(const Keys& keys, const Append& a,
                                        const std::string& head) {
    redis::Connection::EvalCall call;
    call.keys = {keys.incident(a.tenant, a.incident),
                 keys.timeline(a.tenant, a.incident),
                 keys.processed(a.tenant, a.processed_id.empty() ? "-" : a.processed_id),
                 keys.outbox(a.tenant, a.processed_id.empty() ? "-" : a.processed_id),
                 keys.outboxes(),
                 keys.board()};
    call.args = {head,
                 "",
                 a.processed_id.empty() ? "0" : std::to_string(a.processed_ttl_s),
                 OutboxMember{a.tenant, a.processed_id}.str(),
                 std::to_string(a.now),
                 std::to_string(a.entries.size()),
                 std::to_string(a.outbox.size())};
    std::string h = head;
    for (const auto& e : a.entries) {
        call.args.push_back(chained_entry(e, h));
        h = timeline_hash(call.args.back());
    }
    call.args[1] = h;
    for (const auto& m : a.outbox)
        call.args.push_back(core::to_json(m).dump());
    call.args.push_back(a.tenant);
    call.args.push_back(a.incident);
    return call;
}

}  // namespace

CommitOutcome IncidentStore::append(const Append& a) {
    std::string head = timeline_head(a.tenant, a.incident);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const auto call = append_call(keys_, a, head);
        auto r = redis_.eval(kAppend, call.keys, call.args);
        switch (r.elements().at(0).integer()) {
            case 1:
                return CommitOutcome::kCommitted;
            case 2:
                return CommitOutcome::kAlreadyProcessed;
            default:
                head = r.elements().at(1).str();  // another writer appended first
                continue;
        }
    }
    throw std::runtime_error("timeline of " + a.incident + ": too many concurrent appends");
}

void IncidentStore::append_all(const std::vector<Append>& appends) {
    if (appends.empty())
        return;
    // Two round trips for all of them: the heads, then the appends; a head that moved in
    // between (another writer) is appended again alone.
    std::vector<std::vector<std::string>> heads;
    for (const auto& a : appends)
        heads.push_back({"HGET", keys_.incident(a.tenant, a.incident), "tlh"});
    const auto got = redis_.pipeline(heads);
    std::vector<redis::Connection::EvalCall> calls;
    for (std::size_t i = 0; i < appends.size(); ++i)
        calls.push_back(append_call(keys_, appends[i], got[i].is_nil() ? "" : got[i].str()));
    const auto replies = redis_.eval_all(kAppend, calls);
    for (std::size_t i = 0; i < appends.size(); ++i) {
        if (replies[i].is_error())
            throw redis::ReplyError(replies[i].str());
        if (replies[i].elements().at(0).integer() == 0)
            append(appends[i]);
    }
}

void IncidentStore::release_dedup(const std::string& tenant, const std::string& dedup_key,
                                  const std::string& incident_id, const std::string& group) {
    std::vector<std::string> keys{keys_.dedup(tenant, dedup_key)};
    if (!group.empty())
        keys.push_back(keys_.group(tenant, group));
    redis_.eval(kRelease, keys, {incident_id});
}

std::vector<OutboxMessage> IncidentStore::outbox(const std::string& tenant,
                                                 const std::string& processed_id) {
    auto r = redis_.command({"LRANGE", keys_.outbox(tenant, processed_id), "0", "-1"});
    std::vector<OutboxMessage> out;
    for (const auto& e : r.elements()) {
        auto entry = core::outbox_entry_from_json(nlohmann::json::parse(e.str(), nullptr, false));
        if (!entry)  // written by this code only; a damaged entry cannot be published
            throw std::runtime_error("outbox " + processed_id + ": " + entry.error().message);
        out.push_back(std::move(entry.value()));
    }
    return out;
}

void IncidentStore::clear_outboxes(const std::vector<OutboxMember>& published) {
    if (published.empty())
        return;
    std::vector<std::string> zrem{"ZREM", keys_.outboxes()};
    std::vector<std::string> del{"DEL"};
    for (const auto& m : published) {
        del.push_back(keys_.outbox(m.tenant, m.processed_id));
        zrem.push_back(m.str());
    }
    redis_.pipeline({std::move(del), std::move(zrem)});
}

std::vector<OutboxMember> IncidentStore::stale_outboxes(core::TimePoint older_than) {
    auto r = redis_.command({"ZRANGEBYSCORE", keys_.outboxes(), "-inf", std::to_string(older_than),
                             "LIMIT", "0", "100"});
    std::vector<OutboxMember> out;
    for (const auto& e : r.elements()) {
        if (auto m = OutboxMember::parse(e.str()))
            out.push_back(std::move(*m));
    }
    return out;
}

std::vector<TimerFiring> IncidentStore::lease_due_timers(core::TimePoint now,
                                                         core::TimePoint lease_until, int limit,
                                                         std::optional<core::TimePoint>* next_due) {
    auto r = redis_.eval(
        kLease, {keys_.timers(), keys_.timer_leases()},
        {std::to_string(now), std::to_string(lease_until), std::to_string(limit), kLeaseSeparator});
    std::vector<TimerFiring> out;
    const auto& both = r.elements();
    if (next_due != nullptr) {
        *next_due = both.at(1).is_nil()
                        ? std::nullopt
                        : std::optional<core::TimePoint>(
                              static_cast<core::TimePoint>(std::stod(both[1].str())));
    }
    const auto& e = both.at(0).elements();
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
        TimerFiring f;
        f.member = e[i].str();
        f.due = std::stoll(e[i + 1].str());
        f.lease = timer_lease(f.member, f.due);
        out.push_back(std::move(f));
    }
    return out;
}

void IncidentStore::finish_timers(const std::vector<TimerFiring>& firings) {
    if (firings.empty())
        return;
    std::vector<std::string> zrem{"ZREM", keys_.timer_leases()};
    for (const auto& f : firings)
        zrem.push_back(f.lease);
    redis_.command(zrem);
}

void IncidentStore::wake_timers(core::TimePoint due) {
    redis_.command({"PUBLISH", keys_.timer_wake(), std::to_string(due)});
}

int IncidentStore::requeue_expired_leases(core::TimePoint now) {
    return static_cast<int>(redis_
                                .eval(kRequeue, {keys_.timers(), keys_.timer_leases()},
                                      {std::to_string(now), kLeaseSeparator})
                                .integer());
}

void IncidentStore::append_timeline(const std::string& tenant, const std::string& incident,
                                    const core::TimelineEntry& e) {
    Append a;
    a.tenant = tenant;
    a.incident = incident;
    a.entries = {e};
    append(a);
}

std::vector<std::optional<std::string>> IncidentStore::marker_values(
    const std::vector<std::string>& keys) {
    std::vector<std::optional<std::string>> out;
    if (keys.empty())
        return out;
    std::vector<std::string> mget{"MGET"};
    mget.insert(mget.end(), keys.begin(), keys.end());
    for (const auto& r : redis_.command(mget).elements())
        out.push_back(r.is_nil() ? std::nullopt : std::optional<std::string>(r.str()));
    return out;
}

void IncidentStore::record(const std::vector<Record>& records) {
    std::vector<std::vector<std::string>> markers;
    // Timeline entries per incident, in order: each incident's chain is extended once.
    std::vector<Append> appends;
    for (const auto& r : records) {
        if (!r.marker.empty())
            markers.push_back({"SET", r.marker, r.marker_value, "EX", std::to_string(r.ttl_s)});
        if (r.incident.empty())
            continue;
        auto it = std::find_if(appends.begin(), appends.end(), [&](const Append& a) {
            return a.tenant == r.tenant && a.incident == r.incident;
        });
        if (it == appends.end()) {
            appends.push_back(Append{r.tenant, r.incident, {}, {}, {}, 0, 0});
            it = appends.end() - 1;
        }
        it->entries.push_back(r.entry);
    }
    append_all(appends);
    if (!markers.empty())
        redis_.pipeline(markers);
}

std::vector<nlohmann::json> IncidentStore::timeline(const std::string& tenant,
                                                    const std::string& incident) {
    auto r = redis_.command({"LRANGE", keys_.timeline(tenant, incident), "0", "-1"});
    std::vector<nlohmann::json> out;
    for (const auto& entry : r.elements())
        out.push_back(nlohmann::json::parse(entry.str()));
    return out;
}

void IncidentStore::set_command_result(const std::string& tenant, const core::CommandReply& reply) {
    redis_.command(
        {"SET", keys_.command_result(tenant, reply.id), core::to_json(reply).dump(), "EX", "3600"});
}

std::optional<core::CommandReply> IncidentStore::command_result(const std::string& tenant,
                                                                const std::string& id) {
    auto r = redis_.command({"GET", keys_.command_result(tenant, id)});
    if (r.is_nil())
        return std::nullopt;
    auto reply = core::command_reply_from_json(nlohmann::json::parse(r.str(), nullptr, false));
    if (!reply)
        return std::nullopt;
    return reply.value();
}

}  // namespace sonae::store

namespace sonae::store {

std::vector<std::pair<std::string, core::TimePoint>> IncidentStore::incidents_before(
    const std::string& tenant, core::TimePoint max_opened, std::size_t offset, std::size_t count) {
    auto r = redis_.command({"ZREVRANGEBYSCORE", keys_.incidents(tenant),
                             std::to_string(max_opened), "-inf", "WITHSCORES", "LIMIT",
                             std::to_string(offset), std::to_string(count)});
    std::vector<std::pair<std::string, core::TimePoint>> out;
    const auto& e = r.elements();
    for (std::size_t i = 0; i + 1 < e.size(); i += 2)
        out.emplace_back(e[i].str(), static_cast<core::TimePoint>(std::stod(e[i + 1].str())));
    return out;
}

std::vector<std::string> IncidentStore::open_ids(const std::string& tenant) {
    std::vector<std::string> ids;
    for (const auto& e : redis_.command({"SMEMBERS", keys_.open(tenant)}).elements())
        ids.push_back(e.str());
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::vector<core::Incident> IncidentStore::load_many(const std::string& tenant,
                                                     const std::vector<std::string>& ids) {
    std::vector<std::vector<std::string>> commands;
    commands.reserve(ids.size());
    for (const auto& id : ids)
        commands.push_back({"HGET", keys_.incident(tenant, id), "state"});
    std::vector<core::Incident> out;
    for (const auto& r : redis_.pipeline(commands)) {
        if (!r.is_nil())
            out.push_back(core::incident_from_json(nlohmann::json::parse(r.str())));
    }
    return out;
}

std::pair<std::vector<std::string>, std::int64_t> IncidentStore::timeline_page(
    const std::string& tenant, const std::string& incident, std::int64_t start,
    std::int64_t count) {
    const std::string key = keys_.timeline(tenant, incident);
    auto replies = redis_.pipeline(
        {{"LRANGE", key, std::to_string(start), std::to_string(start + count - 1)}, {"LLEN", key}});
    std::vector<std::string> entries;
    for (const auto& e : replies.at(0).elements())
        entries.push_back(e.str());
    return {std::move(entries), replies.at(1).integer()};
}

}  // namespace sonae::store
