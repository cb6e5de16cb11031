#include <algorithm>
#include <initializer_list>
#include <set>

#include <sonae/sim/report.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::sim {
namespace {

using core::Duration;
using core::TimePoint;
using nlohmann::json;

// Generated texts of report.json (findings); the renderers' labels are in render.cpp.
struct FindingTexts {
    const char* expectation;  // "{id}: {what}"
    const char* step_not_done_by;
    const char* rto_not_met;
    const char* role_not_notified_by;
    const char* not_escalated_by;
    const char* not_resolved_by;
    const char* by_end;
    const char* late_step;
    const char* not_done;
    const char* rto_breached;
    const char* not_recovered;
};

const FindingTexts& finding_texts(Lang lang) {
    static const FindingTexts ja{
        "期待事項 %s が未達: %s",
        "手順「%s」が%sまでに完了しなかった",
        "%s が RTO 内に復旧しなかった",
        "%s への通知が%sまでになかった",
        "エスカレーション %s が%sまでに発報されなかった",
        "インシデントが%sまでに終結しなかった",
        "訓練終了",
        "[%s] 手順「%s」が期限超過（期限 %s、完了 %s）",
        "未完了",
        "[%s] %s の RTO %s を超過（復旧 %s）",
        "未復旧",
    };
    static const FindingTexts en{
        "Expectation %s missed: %s",
        "step \"%s\" was not done by %s",
        "%s was not recovered within its RTO",
        "%s was not notified by %s",
        "escalation %s did not fire by %s",
        "the incident was not closed by %s",
        "the end of the drill",
        "[%s] step \"%s\" was late (due %s, done %s)",
        "not done",
        "[%s] %s breached its RTO of %s (recovered %s)",
        "not recovered",
    };
    return lang == Lang::kEn ? en : ja;
}

// Fills each "%s" of a finding text with the next argument.
std::string fmt(std::string_view text, std::initializer_list<std::string> args) {
    std::string out;
    auto arg = args.begin();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == 's' && arg != args.end()) {
            out += *arg++;
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string_view kind_name(Expectation::Kind k) {
    switch (k) {
        case Expectation::Kind::kStepDone:
            return "step_done";
        case Expectation::Kind::kRtoMet:
            return "rto_met";
        case Expectation::Kind::kNotifiedRole:
            return "notified_role";
        case Expectation::Kind::kEscalated:
            return "escalated";
        case Expectation::Kind::kResolved:
            return "resolved";
    }
    return "resolved";
}

class Builder {
  public:
    Builder(const Scenario& s, const EngineFor& engine_for, const std::vector<Record>& records,
            const DrillLog& log, Lang lang)
        : s_(s), engine_for_(engine_for), records_(records), log_(log), lang_(lang) {}

    json build() {
        json incidents = json::array();
        json services = json::array();
        json steps = json::array();
        json escalations = json::array();
        std::set<std::pair<std::string, std::string>> seen;
        std::set<std::string> tenants;
        for (const auto& r : records_) {
            json inc = incident(r);
            tenants.insert(r.incident.tenant);
            for (const auto& svc : inc["services"]) {
                if (seen.emplace(r.incident.tenant, svc["id"].get<std::string>()).second)
                    services.push_back(svc);
            }
            for (const auto& st : inc["steps"])
                steps.push_back(st);
            for (const auto& e : inc["escalations"]) {
                json row = e;
                row["incident"] = r.incident.id;
                row["tenant"] = r.incident.tenant;
                escalations.push_back(std::move(row));
            }
            incidents.push_back(std::move(inc));
        }
        json expectations = json::array();
        json improvements = json::array();
        double total = 0, earned = 0;
        for (const auto& e : s_.expect) {
            const bool met = expectation_met(e);
            total += e.score;
            earned += met ? e.score : 0;
            json row = {{"id", e.id},
                        {"kind", kind_name(e.kind)},
                        {"subject", e.subject},
                        {"by_seconds", e.by ? json(*e.by / core::kSecond) : json(nullptr)},
                        {"met", met},
                        {"score", met ? e.score : 0.0},
                        {"max_score", e.score}};
            if (!e.tenant.empty())
                row["tenant"] = e.tenant;
            expectations.push_back(std::move(row));
            if (!met)
                improvements.push_back(missed(e));
        }
        for (const auto& r : records_)
            late(r, improvements);
        double score = 100;
        if (total > 0) {
            score = 100.0 * earned / total;
        } else if (!services.empty()) {
            int met = 0;
            for (const auto& svc : services)
                met += svc["met"].get<bool>() ? 1 : 0;
            score = 100.0 * met / static_cast<double>(services.size());
        }
        return {{"scenario", s_.id},
                {"title", s_.title},
                {"description", s_.description},
                {"lang", to_string(lang_)},
                {"start", core::format_timestamp(log_.start)},
                {"duration_seconds", (log_.end - log_.start) / core::kSecond},
                {"virtual_end_seconds", seconds(log_.last_activity)},
                {"score", std::lround(score)},
                {"events", log_.events},
                {"tenants", std::vector<std::string>(tenants.begin(), tenants.end())},
                {"incidents", incidents},
                {"services", services},
                {"steps", steps},
                {"escalations", escalations},
                {"expectations", expectations},
                {"improvements", improvements},
                {"messages", log_.messages},
                {"rejected_commands", log_.rejected_commands},
                {"unmatched_events", log_.unmatched_events}};
    }

  private:
    json seconds(TimePoint t) const {
        if (t == 0)
            return nullptr;
        return (t - log_.start) / core::kSecond;
    }
    std::string offset(TimePoint t) const {
        return format_offset((t - log_.start) / core::kSecond);
    }

    const core::Playbook* playbook(const Record& r) const {
        return engine_for_(r.incident.tenant).playbooks().find(r.incident.playbook_id);
    }
    const core::Catalog& catalog(const std::string& tenant) const {
        return engine_for_(tenant).catalog();
    }

    std::string service_name(const std::string& tenant, const core::ServiceClock& svc) const {
        if (const core::Service* c = catalog(tenant).service(svc.id); c && !c->name.empty())
            return c->name;
        return svc.name.empty() ? svc.id : svc.name;
    }

    static bool is_late(const core::StepState& st, TimePoint end) {
        if (st.due_at == 0)
            return false;
        if (st.status == core::StepStatus::kDone || st.status == core::StepStatus::kFailed)
            return st.finished_at > st.due_at;
        return st.status == core::StepStatus::kActive && end > st.due_at;
    }

    json incident(const Record& r) const {
        const core::Incident& i = r.incident;
        const core::Playbook* pb = playbook(r);
        json steps = json::array();
        if (pb != nullptr) {
            for (const auto& step : pb->steps) {
                auto found = i.steps.find(step.id);
                const core::StepState st =
                    found != i.steps.end() ? found->second : core::StepState{};
                const bool done = st.status == core::StepStatus::kDone;
                const bool ended = done || st.status == core::StepStatus::kFailed;
                steps.push_back(
                    {{"incident", i.id},
                     {"tenant", i.tenant},
                     {"id", step.id},
                     {"title", step.title},
                     {"type", core::to_string(step.type)},
                     {"owner", step.owner},
                     {"status", core::to_string(st.status)},
                     {"activated_at_seconds", seconds(st.activated_at)},
                     {"planned_seconds", step.planned() / core::kSecond},
                     {"due_seconds", seconds(st.due_at)},
                     {"done_at_seconds", done ? seconds(st.finished_at) : json(nullptr)},
                     {"actual_seconds",
                      ended && st.activated_at != 0
                          ? json((st.finished_at - st.activated_at) / core::kSecond)
                          : json(nullptr)},
                     {"on_time", done && (st.due_at == 0 || st.finished_at <= st.due_at)},
                     {"late", is_late(st, log_.end)},
                     {"recovers", step.recovers}});
            }
        }
        json services = json::array();
        for (const auto& svc : i.services) {
            const bool met = svc.recovered_at != 0 && svc.recovered_at <= svc.deadline();
            const bool started = svc.started_at != 0;
            services.push_back(
                {{"id", svc.id},
                 {"name", service_name(i.tenant, svc)},
                 {"tenant", i.tenant},
                 {"incident", i.id},
                 {"rto_seconds", svc.rto / core::kSecond},
                 {"started_at_seconds", seconds(svc.started_at)},
                 {"deadline_seconds", started ? seconds(svc.deadline()) : json(nullptr)},
                 {"recovered_at_seconds", seconds(svc.recovered_at)},
                 {"recovery_seconds",
                  started && svc.recovered_at != 0
                      ? json((svc.recovered_at - svc.started_at) / core::kSecond)
                      : json(nullptr)},
                 {"met", met},
                 {"breach_predicted", svc.breach_predicted}});
        }
        json escalations = json::array();
        for (const auto& [key, at] : r.escalations)
            escalations.push_back({{"key", key}, {"at_seconds", seconds(at)}});
        std::stable_sort(escalations.begin(), escalations.end(), [](const json& a, const json& b) {
            return a["at_seconds"] != b["at_seconds"] ? a["at_seconds"] < b["at_seconds"]
                                                      : a["key"] < b["key"];
        });
        json timeline = json::array();
        for (const auto& t : r.timeline) {
            timeline.push_back({{"at_seconds", seconds(t.at)},
                                {"kind", t.kind},
                                {"actor", t.actor},
                                {"text", t.text}});
        }
        return {
            {"id", i.id},
            {"tenant", i.tenant},
            {"playbook", i.playbook_id},
            {"playbook_title", pb != nullptr ? pb->title : std::string{}},
            {"title", i.title},
            {"severity", core::to_string(i.severity)},
            {"status", core::to_string(i.status)},
            {"opened_at_seconds", seconds(i.opened_at)},
            {"acknowledged_at_seconds", seconds(i.acked_at)},
            {"acknowledged_by", i.acked_by},
            {"time_to_acknowledge_seconds",
             i.acked_at != 0 ? json((i.acked_at - i.opened_at) / core::kSecond) : json(nullptr)},
            {"resolved_at_seconds", seconds(i.resolved_at)},
            {"steps", steps},
            {"services", services},
            {"escalations", escalations},
            {"notifications", r.notifications.size()},
            {"alerts", i.event_count},
            {"assets", i.asset_counts.size()},
            {"group", i.group.empty() ? json(nullptr) : json(i.group)},
            {"timeline", timeline}};
    }

    bool counts(const Expectation& e, const Record& r) const {
        return e.tenant.empty() || r.incident.tenant == e.tenant;
    }

    bool expectation_met(const Expectation& e) const {
        const TimePoint by = e.by ? log_.start + *e.by : log_.end;
        for (const auto& c : records_) {
            if (!counts(e, c))
                continue;
            const core::Incident& i = c.incident;
            switch (e.kind) {
                case Expectation::Kind::kStepDone: {
                    auto it = i.steps.find(e.subject);
                    if (it != i.steps.end() && it->second.status == core::StepStatus::kDone &&
                        it->second.finished_at <= by)
                        return true;
                    break;
                }
                case Expectation::Kind::kRtoMet:
                    for (const auto& svc : i.services) {
                        if (svc.id == e.subject && svc.recovered_at != 0 &&
                            svc.recovered_at <= svc.deadline() && svc.recovered_at <= by) {
                            return true;
                        }
                    }
                    break;
                case Expectation::Kind::kNotifiedRole:
                    for (const auto& n : c.notifications) {
                        if (n.at <= by &&
                            std::find(n.roles.begin(), n.roles.end(), e.subject) != n.roles.end())
                            return true;
                    }
                    break;
                case Expectation::Kind::kEscalated:
                    for (const auto& [key, at] : c.escalations) {
                        if ((key == e.subject || key.rfind(e.subject + ":", 0) == 0) && at <= by)
                            return true;
                    }
                    break;
                case Expectation::Kind::kResolved:
                    if (!i.open() && i.resolved_at <= by)
                        return true;
                    break;
            }
        }
        return false;
    }

    std::string due_date(const std::string& tenant) const {
        const std::string d =
            core::format_yyyymmdd(log_.start + kImprovementDue, catalog(tenant).utc_offset_minutes);
        return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2);
    }

    json row(const std::string& finding, const std::string& owner, const std::string& tenant,
             json source) const {
        const core::Role* role = catalog(tenant).role(owner);
        return {{"finding", finding},
                {"owner", owner},
                {"owner_name", role != nullptr ? role->name : owner},
                {"tenant", tenant},
                {"due", due_date(tenant)},
                {"source", std::move(source)}};
    }

    static std::string fallback_owner(const core::Playbook* pb) {
        if (pb == nullptr)
            return "";
        if (!pb->manual_escalation.empty())
            return pb->manual_escalation.front();
        return pb->roles.empty() ? std::string{} : pb->roles.front();
    }

    // The owner of the last recovery step of a service (the one that decides its recovery).
    static std::string recovery_owner(const core::Playbook& pb, const core::Incident& i,
                                      const std::string& service) {
        const core::Step* best = nullptr;
        TimePoint best_at = -1;
        for (const auto& step : pb.steps) {
            if (std::find(step.recovers.begin(), step.recovers.end(), service) ==
                step.recovers.end())
                continue;
            auto st = i.steps.find(step.id);
            const TimePoint at = st != i.steps.end() ? st->second.finished_at : 0;
            if (best == nullptr || at > best_at) {
                best = &step;
                best_at = at;
            }
        }
        return best != nullptr ? best->owner : fallback_owner(&pb);
    }

    json missed(const Expectation& e) const {
        const FindingTexts& t = finding_texts(lang_);
        const std::string by = e.by ? format_offset(*e.by / core::kSecond) : t.by_end;
        const Record* first = nullptr;
        for (const auto& r : records_) {
            if (counts(e, r)) {
                first = &r;
                break;
            }
        }
        std::string tenant = first != nullptr ? first->incident.tenant : "default";
        if (!e.tenant.empty())
            tenant = e.tenant;
        std::string owner = first != nullptr ? fallback_owner(playbook(*first)) : "";
        std::string what;
        switch (e.kind) {
            case Expectation::Kind::kStepDone: {
                std::string title = e.subject;
                for (const auto& r : records_) {
                    const core::Playbook* pb = counts(e, r) ? playbook(r) : nullptr;
                    if (const core::Step* st = pb ? pb->step(e.subject) : nullptr) {
                        title = st->title.empty() ? st->id : st->title;
                        owner = st->owner;
                        break;
                    }
                }
                what = fmt(t.step_not_done_by, {title, by});
                break;
            }
            case Expectation::Kind::kRtoMet: {
                std::string name = e.subject;
                if (const core::Service* svc = catalog(tenant).service(e.subject))
                    name = svc->name;
                for (const auto& r : records_) {
                    const core::Playbook* pb = counts(e, r) ? playbook(r) : nullptr;
                    if (pb != nullptr && r.incident.service(e.subject) != nullptr) {
                        owner = recovery_owner(*pb, r.incident, e.subject);
                        break;
                    }
                }
                what = fmt(t.rto_not_met, {name});
                break;
            }
            case Expectation::Kind::kNotifiedRole: {
                const core::Role* role = catalog(tenant).role(e.subject);
                if (const core::Playbook* pb = first ? playbook(*first) : nullptr) {
                    for (const auto& st : pb->steps) {
                        if (std::find(st.notify.roles.begin(), st.notify.roles.end(), e.subject) !=
                            st.notify.roles.end()) {
                            owner = st.owner.empty() ? owner : st.owner;
                            break;
                        }
                    }
                }
                what = fmt(t.role_not_notified_by, {role ? role->name : e.subject, by});
                break;
            }
            case Expectation::Kind::kEscalated:
                what = fmt(t.not_escalated_by, {e.subject, by});
                break;
            case Expectation::Kind::kResolved:
                what = fmt(t.not_resolved_by, {by});
                break;
        }
        return row(fmt(t.expectation, {e.id, what}), owner, tenant,
                   {{"kind", "expectation"}, {"id", e.id}});
    }

    void late(const Record& r, json& out) const {
        const FindingTexts& t = finding_texts(lang_);
        const core::Incident& i = r.incident;
        const core::Playbook* pb = playbook(r);
        if (pb == nullptr)
            return;
        for (const auto& svc : i.services) {
            if (svc.started_at == 0 ||
                (svc.recovered_at != 0 && svc.recovered_at <= svc.deadline()))
                continue;
            if (svc.recovered_at == 0 && log_.end <= svc.deadline())
                continue;  // the drill ended before the deadline
            const std::string when =
                svc.recovered_at != 0 ? offset(svc.recovered_at) : t.not_recovered;
            out.push_back(row(fmt(t.rto_breached, {i.id, service_name(i.tenant, svc),
                                                   core::format_duration(svc.rto), when}),
                              recovery_owner(*pb, i, svc.id), i.tenant,
                              {{"kind", "rto"}, {"id", svc.id}, {"incident", i.id}}));
        }
        for (const auto& step : pb->steps) {
            auto it = i.steps.find(step.id);
            if (it == i.steps.end() || !is_late(it->second, log_.end))
                continue;
            const core::StepState& st = it->second;
            const std::string done =
                st.status == core::StepStatus::kActive ? t.not_done : offset(st.finished_at);
            out.push_back(row(fmt(t.late_step, {i.id, step.title.empty() ? step.id : step.title,
                                                offset(st.due_at), done}),
                              step.owner.empty() ? fallback_owner(pb) : step.owner, i.tenant,
                              {{"kind", "step"}, {"id", step.id}, {"incident", i.id}}));
        }
    }

    const Scenario& s_;
    const EngineFor& engine_for_;
    const std::vector<Record>& records_;
    const DrillLog& log_;
    Lang lang_;
};

}  // namespace

std::optional<Lang> parse_lang(std::string_view text) {
    if (text == "ja")
        return Lang::kJa;
    if (text == "en")
        return Lang::kEn;
    return std::nullopt;
}

std::string_view to_string(Lang lang) {
    return lang == Lang::kEn ? "en" : "ja";
}

std::string format_offset(std::int64_t seconds) {
    const bool negative = seconds < 0;
    std::int64_t s = negative ? -seconds : seconds;
    const std::int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    s %= 60;
    std::string out;
    auto part = [&](const char* unit, std::int64_t n) {
        if (!out.empty())
            out += ' ';
        out += unit;
        out += '+';
        out += std::to_string(n);
    };
    if (d != 0)
        part("D", d);
    if (h != 0)
        part("H", h);
    if (m != 0)
        part("M", m);
    if (s != 0)
        part("S", s);
    if (out.empty())
        out = "M+0";
    return negative ? "-(" + out + ")" : out;
}

json build_report(const Scenario& scenario, const EngineFor& engine_for,
                  const std::vector<Record>& records, const DrillLog& log, Lang lang) {
    return Builder(scenario, engine_for, records, log, lang).build();
}

json build_report(const Scenario& scenario, const core::Engine& engine,
                  const std::vector<Record>& records, const DrillLog& log, Lang lang) {
    const EngineFor one = [&engine](const std::string&) -> const core::Engine& { return engine; };
    return build_report(scenario, one, records, log, lang);
}

}  // namespace sonae::sim
