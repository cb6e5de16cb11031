#include <array>
#include <cctype>

#include <sonae/core/exercise.hpp>
#include <sonae/core/incident.hpp>

namespace sonae::core {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 3> kIncidentStatus{"triggered", "acknowledged", "resolved"};
constexpr std::array<std::string_view, 5> kStepStatus{"pending", "active", "done", "skipped",
                                                      "failed"};

template <typename E, std::size_t N>
E parse_enum(const std::array<std::string_view, N>& names, const std::string& s) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == s)
            return static_cast<E>(i);
    }
    throw json::other_error::create(501, "unknown status " + s, nullptr);
}

template <typename T>
void put_if(json& j, const char* key, const T& v, const T& empty) {
    if (v != empty)
        j[key] = v;
}

}  // namespace

std::string_view to_string(IncidentStatus s) {
    return kIncidentStatus.at(static_cast<std::size_t>(s));
}
std::string_view to_string(StepStatus s) {
    return kStepStatus.at(static_cast<std::size_t>(s));
}

ServiceClock* Incident::service(const std::string& sid) {
    for (auto& s : services) {
        if (s.id == sid)
            return &s;
    }
    return nullptr;
}

const ServiceClock* Incident::service(const std::string& sid) const {
    for (const auto& s : services) {
        if (s.id == sid)
            return &s;
    }
    return nullptr;
}

std::string incident_id_prefix(const std::string& tenant) {
    return tenant == "default" ? std::string{} : tenant + ".";
}

std::optional<std::string> tenant_of_incident(std::string_view text) {
    const auto dot = text.find('.');
    std::string tenant = "default";
    std::string_view id = text;
    if (dot != std::string_view::npos) {
        tenant = std::string(text.substr(0, dot));
        id = text.substr(dot + 1);
        // A drill's namespace "<tenant>~<exercise>" (core/exercise.hpp) may name "default".
        const auto exercise = exercise_of(tenant);
        const std::string base = base_tenant(tenant);
        if (exercise ? !valid_exercise_id(*exercise) : base == "default")
            return std::nullopt;
        if (base.empty())
            return std::nullopt;
        for (char c : base) {
            const auto u = static_cast<unsigned char>(c);
            if (!(std::islower(u) || std::isdigit(u) || c == '-'))
                return std::nullopt;
        }
    }
    // INC-YYYYMMDD-NNNN (four digits or more)
    if (id.size() < 17 || id.substr(0, 4) != "INC-" || id[12] != '-')
        return std::nullopt;
    for (std::size_t i = 4; i < id.size(); ++i) {
        if (i != 12 && !std::isdigit(static_cast<unsigned char>(id[i])))
            return std::nullopt;
    }
    return tenant;
}

json to_json(const Incident& i) {
    json j = {
        {"tenant", i.tenant},
        {"id", i.id},
        {"playbook", i.playbook_id},
        {"pv", i.playbook_version},
        {"title", i.title},
        {"category", to_string(i.category)},
        {"severity", to_string(i.severity)},
        {"status", to_string(i.status)},
        {"opened_at", i.opened_at},
        {"events", i.event_count},
        {"nseq", i.notification_seq},
        {"tseq", i.timeline_seq},
    };
    if (i.classification)
        j["classification"] = to_string(*i.classification);
    if (i.exercise)
        j["exercise"] = true;
    put_if<TimePoint>(j, "acked_at", i.acked_at, 0);
    put_if<TimePoint>(j, "resolved_at", i.resolved_at, 0);
    put_if<std::string>(j, "acked_by", i.acked_by, "");
    put_if<std::string>(j, "resolved_by", i.resolved_by, "");
    put_if<std::string>(j, "resolution", i.resolution, "");
    if (!i.assets.empty()) {
        json a = json::array();
        for (const auto& x : i.assets) {
            json o = json::object();
            put_if<std::string>(o, "host", x.host, "");
            put_if<std::string>(o, "ip", x.ip, "");
            put_if<std::string>(o, "user", x.user, "");
            put_if<std::string>(o, "system", x.system, "");
            a.push_back(std::move(o));
        }
        j["assets"] = std::move(a);
    }
    if (!i.labels.empty())
        j["labels"] = i.labels;
    json alerts = json::object();
    for (const auto& [k, a] : i.alerts) {
        json o = {
            {"src", a.source}, {"n", a.count}, {"first", a.first_seen}, {"last", a.last_seen}};
        if (a.resolved)
            o["resolved"] = true;
        alerts[k] = std::move(o);
    }
    j["alerts"] = std::move(alerts);
    put_if<std::string>(j, "group", i.group, "");
    if (!i.asset_counts.empty())
        j["ac"] = i.asset_counts;
    json steps = json::object();
    for (const auto& [k, s] : i.steps) {
        json o = {{"s", to_string(s.status)}};
        put_if<TimePoint>(o, "act", s.activated_at, 0);
        put_if<TimePoint>(o, "due", s.due_at, 0);
        put_if<TimePoint>(o, "fin", s.finished_at, 0);
        put_if<std::string>(o, "who", s.assignee, "");
        put_if<std::string>(o, "dec", s.decision, "");
        put_if<std::string>(o, "note", s.note, "");
        steps[k] = std::move(o);
    }
    j["steps"] = std::move(steps);
    json services = json::array();
    for (const auto& s : i.services) {
        json o = {{"id", s.id}, {"name", s.name}, {"rto", s.rto}, {"start", s.started_at}};
        put_if<TimePoint>(o, "rec", s.recovered_at, 0);
        if (s.breached)
            o["breached"] = true;
        if (s.breach_predicted)
            o["predicted"] = true;
        services.push_back(std::move(o));
    }
    j["services"] = std::move(services);
    if (!i.fired.empty())
        j["fired"] = i.fired;
    if (!i.timers.empty()) {
        json timers = json::object();
        for (const auto& [id, due] : i.timers)
            timers[id.str()] = due;
        j["timers"] = std::move(timers);
    }
    return j;
}

Incident incident_from_json(const json& j) {
    Incident i;
    i.tenant = j.at("tenant").get<std::string>();
    i.id = j.at("id").get<std::string>();
    i.playbook_id = j.at("playbook").get<std::string>();
    i.playbook_version = j.value("pv", 0);
    i.title = j.value("title", "");
    i.category = parse_category(j.value("category", "other")).value_or(Category::kOther);
    i.severity = parse_severity(j.value("severity", "medium")).value_or(Severity::kMedium);
    if (auto it = j.find("classification"); it != j.end()) {
        i.classification = parse_classification(it->get<std::string>());
    }
    i.status = parse_enum<IncidentStatus>(kIncidentStatus, j.at("status").get<std::string>());
    i.exercise = j.value("exercise", false);
    i.opened_at = j.at("opened_at").get<TimePoint>();
    i.acked_at = j.value("acked_at", TimePoint{0});
    i.resolved_at = j.value("resolved_at", TimePoint{0});
    i.acked_by = j.value("acked_by", "");
    i.resolved_by = j.value("resolved_by", "");
    i.resolution = j.value("resolution", "");
    i.event_count = j.value("events", 0);
    i.notification_seq = j.value("nseq", std::int64_t{0});
    i.timeline_seq = j.value("tseq", std::int64_t{0});
    if (auto it = j.find("assets"); it != j.end()) {
        for (const auto& a : *it) {
            i.assets.push_back(Asset{a.value("host", ""), a.value("ip", ""), a.value("user", ""),
                                     a.value("system", "")});
        }
    }
    if (auto it = j.find("labels"); it != j.end())
        i.labels = it->get<std::map<std::string, std::string>>();
    for (const auto& [k, a] : j.at("alerts").items()) {
        AlertState s;
        s.source = a.value("src", "");
        s.count = a.value("n", 0);
        s.first_seen = a.value("first", TimePoint{0});
        s.last_seen = a.value("last", TimePoint{0});
        s.resolved = a.value("resolved", false);
        i.alerts[k] = s;
    }
    i.group = j.value("group", "");
    if (auto it = j.find("ac"); it != j.end())
        i.asset_counts = it->get<std::map<std::string, int>>();
    for (const auto& [k, o] : j.at("steps").items()) {
        StepState s;
        s.status = parse_enum<StepStatus>(kStepStatus, o.at("s").get<std::string>());
        s.activated_at = o.value("act", TimePoint{0});
        s.due_at = o.value("due", TimePoint{0});
        s.finished_at = o.value("fin", TimePoint{0});
        s.assignee = o.value("who", "");
        s.decision = o.value("dec", "");
        s.note = o.value("note", "");
        i.steps[k] = s;
    }
    for (const auto& o : j.at("services")) {
        ServiceClock s;
        s.id = o.at("id").get<std::string>();
        s.name = o.value("name", s.id);
        s.rto = o.at("rto").get<Duration>();
        s.started_at = o.value("start", TimePoint{0});
        s.recovered_at = o.value("rec", TimePoint{0});
        s.breached = o.value("breached", false);
        s.breach_predicted = o.value("predicted", false);
        i.services.push_back(s);
    }
    if (auto it = j.find("fired"); it != j.end())
        i.fired = it->get<std::set<std::string>>();
    if (auto it = j.find("timers"); it != j.end()) {
        for (const auto& [k, due] : it->items()) {
            if (auto id = TimerId::parse(k))
                i.timers[*id] = due.get<TimePoint>();
        }
    }
    return i;
}

}  // namespace sonae::core
