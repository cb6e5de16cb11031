#include <algorithm>
#include <charconv>

#include <sonae/core/command.hpp>
#include <sonae/report/report.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::report {
namespace {

using core::TimePoint;
using nlohmann::json;
using sim::Lang;

struct KindInfo {
    Kind kind;
    std::string_view id;
    std::string_view milestone;  // the step milestone that marks it submitted
    const char* name_ja;
    const char* name_en;
    std::vector<std::string_view> required;  // facts the report asks for
};

const std::vector<KindInfo>& kinds() {
    static const std::vector<KindInfo> k{
        {Kind::kFirst,
         "first",
         "first-report",
         "第一報",
         "First report",
         {"summary", "reporter", "contact"}},
        {Kind::kPpcPreliminary,
         "ppc-preliminary",
         "ppc-preliminary",
         "個人情報保護委員会への報告（速報）",
         "Report to the PPC (preliminary)",
         {"summary", "personal-data", "data-items", "affected", "reporter", "contact"}},
        {Kind::kPpcFinal,
         "ppc-final",
         "ppc-final",
         "個人情報保護委員会への報告（確報）",
         "Report to the PPC (final)",
         {"summary", "personal-data", "data-items", "affected", "cause", "harm", "individuals",
          "announcement", "prevention", "reporter", "contact"}},
        {Kind::kReview, "review", "", "事後検証報告書", "Post-incident review", {}},
    };
    return k;
}

const KindInfo& info(Kind kind) {
    for (const auto& k : kinds()) {
        if (k.kind == kind)
            return k;
    }
    return kinds().front();
}

struct Words {
    const char* met;
    const char* late;
    const char* overdue;
    const char* pending;
    const char* not_required;
    const char* recovered;
    const char* running;
    const char* breached;
    const char* no_clock;
    const char* yes;
    const char* no;
    const char* unknown;
};

const Words& words(Lang lang) {
    static const Words ja{"期限内に提出",
                          "期限後に提出",
                          "期限超過（未提出）",
                          "未提出（期限前）",
                          "不要（個人情報なし）",
                          "RTO 内に復旧",
                          "停止中（RTO 内）",
                          "RTO 超過",
                          "時計未開始",
                          "あり",
                          "なし",
                          "不明"};
    static const Words en{"submitted in time",
                          "submitted late",
                          "overdue (not submitted)",
                          "not submitted yet",
                          "not required (no personal data)",
                          "recovered within the RTO",
                          "down (within the RTO)",
                          "RTO breached",
                          "clock not started",
                          "yes",
                          "no",
                          "unknown"};
    return lang == Lang::kEn ? en : ja;
}

class Builder {
  public:
    Builder(Kind kind, const Input& in, Lang lang)
        : kind_(kind), in_(in), i_(in.record.incident), lang_(lang), w_(words(lang)) {
        if (in.engine != nullptr) {
            catalog_ = &in.engine->catalog();
            pb_ = in.engine->playbooks().find(i_.playbook_id);
        }
        offset_ = catalog_ != nullptr ? catalog_->utc_offset_minutes : 9 * 60;
        read_timeline();
    }

    json build() {
        const KindInfo& k = info(kind_);
        json facts = json::object();
        for (auto key : core::fact_keys()) {
            auto it = facts_.find(std::string(key));
            facts[std::string(key)] = it == facts_.end() ? json(nullptr) : json(it->second);
        }
        json missing = json::array();
        for (auto key : k.required) {
            // Whether personal data is involved is known from the data's class too.
            const bool known = facts_.contains(std::string(key)) ||
                               (key == "personal-data" && involved() != "unknown");
            if (!known)
                missing.push_back(key);
        }
        const json service_rows = services();
        json out = {
            {"kind", k.id},
            {"name", lang_ == Lang::kEn ? k.name_en : k.name_ja},
            {"lang", sim::to_string(lang_)},
            {"generated_at", ts(in_.now)},
            {"utc_offset", offset_ == 0 ? std::string("+00:00")
                                        : core::format_timestamp_offset(0, offset_).substr(19)},
            {"municipality", catalog_ != nullptr ? catalog_->municipality : std::string{}},
            {"incident", incident()},
            {"times", times()},
            {"summary", fact_or("summary", i_.resolution.empty() ? i_.title : i_.resolution)},
            {"assets", assets()},
            {"systems", systems()},
            {"services", service_rows},
            {"personal_data", personal_data()},
            {"facts", facts},
            {"missing_facts", missing},
            {"response", response()},
            {"next_steps", next_steps()},
            {"deadlines", deadlines()},
            {"reporter", facts["reporter"]},
            {"contact", facts["contact"]},
            {"notes", notes_},
        };
        if (kind_ == Kind::kReview)
            out["review"] = review(service_rows);
        return out;
    }

  private:
    json ts(TimePoint t) const {
        return t == 0 ? json(nullptr) : json(core::format_timestamp_offset(t, offset_));
    }
    std::string fact_or(const std::string& key, const std::string& otherwise) const {
        auto it = facts_.find(key);
        return it == facts_.end() ? otherwise : it->second;
    }
    const std::vector<core::Step>& steps() const {
        static const std::vector<core::Step> none;
        return pb_ != nullptr ? pb_->steps : none;
    }
    std::string role_name(const std::string& role) const {
        const core::Role* r = catalog_ != nullptr ? catalog_->role(role) : nullptr;
        return r != nullptr && !r->name.empty() ? r->name : role;
    }

    // What people entered (the audited timeline is the record; the last value of a fact wins).
    void read_timeline() {
        for (const auto& e : in_.record.timeline) {
            const json& d = e.data;
            if (e.kind == "opened" && d.contains("occurred_at") && d["occurred_at"].is_string())
                occurred_ = core::parse_timestamp(d["occurred_at"].get<std::string>()).value_or(0);
            else if (e.kind == "fact")
                facts_[d.value("key", "")] = d.value("value", "");
            else if (e.kind == "review")
                (d.value("went", "") == "well" ? well_ : badly_)
                    .push_back({{"text", d.value("text", "")}, {"by", e.actor}, {"at", ts(e.at)}});
            else if (e.kind == "improvement")
                improvements_.push_back({{"finding", d.value("finding", "")},
                                         {"owner", d.value("owner", "")},
                                         {"owner_name", role_name(d.value("owner", ""))},
                                         {"due", d.value("due", "")},
                                         {"by", e.actor},
                                         {"source", {{"kind", "command"}}}});
            else if (e.kind == "reported") {
                auto [it, fresh] = reported_.emplace(d.value("report", ""), e.at);
                if (!fresh)
                    it->second = std::min(it->second, e.at);
            } else if (e.kind == "note")
                notes_.push_back({{"text", e.text}, {"by", e.actor}, {"at", ts(e.at)}});
        }
    }

    // The earliest finish of a done step with this milestone (0: none).
    TimePoint milestone_done(std::string_view milestone) const {
        TimePoint best = 0;
        for (const auto& step : steps()) {
            auto it = i_.steps.find(step.id);
            if (step.milestone != milestone || it == i_.steps.end() ||
                it->second.status != core::StepStatus::kDone)
                continue;
            if (best == 0 || it->second.finished_at < best)
                best = it->second.finished_at;
        }
        return best;
    }
    // The due time of an activated step with this milestone (0: none has one).
    TimePoint milestone_due(std::string_view milestone, bool* activated) const {
        TimePoint best = 0;
        for (const auto& step : steps()) {
            auto it = i_.steps.find(step.id);
            if (step.milestone != milestone || it == i_.steps.end() ||
                it->second.status == core::StepStatus::kPending ||
                it->second.status == core::StepStatus::kSkipped)
                continue;
            *activated = true;
            if (it->second.due_at != 0 && (best == 0 || it->second.due_at < best))
                best = it->second.due_at;
        }
        return best;
    }

    json incident() const {
        return {{"id", i_.id},
                {"tenant", i_.tenant},
                {"title", i_.title},
                {"playbook", i_.playbook_id},
                {"playbook_title", pb_ != nullptr ? pb_->title : std::string{}},
                {"category", core::to_string(i_.category)},
                {"severity", core::to_string(i_.severity)},
                {"classification",
                 i_.classification ? json(core::to_string(*i_.classification)) : json(nullptr)},
                {"status", core::to_string(i_.status)},
                {"exercise", i_.exercise},
                {"alerts", i_.event_count},
                {"acknowledged_by", i_.acked_by.empty() ? json(nullptr) : json(i_.acked_by)},
                {"resolved_by", i_.resolved_by.empty() ? json(nullptr) : json(i_.resolved_by)},
                {"resolution", i_.resolution.empty() ? json(nullptr) : json(i_.resolution)}};
    }

    TimePoint recovered_at() const {
        TimePoint last = 0;
        for (const auto& s : i_.services) {
            if (s.recovered_at == 0)
                return 0;
            last = std::max(last, s.recovered_at);
        }
        return last;
    }

    json times() const {
        json occurred = ts(occurred_);
        if (auto it = facts_.find("occurred"); it != facts_.end())
            occurred = it->second;  // what people know beats what the source said
        return {{"occurred_at", occurred},
                {"detected_at", ts(i_.opened_at)},
                // Declared: a responder took the incident on (the first ack, as `rto_start:
                // declaration` counts it).
                {"declared_at", ts(i_.acked_at)},
                {"contained_at", ts(milestone_done("contained"))},
                {"recovered_at", i_.services.empty() ? json(nullptr) : ts(recovered_at())},
                {"resolved_at", ts(i_.resolved_at)}};
    }

    json assets() const {
        json out = json::array();
        for (const auto& [name, count] : i_.asset_counts)
            out.push_back({{"name", name}, {"alerts", count}});
        if (out.empty()) {
            for (const auto& a : i_.assets) {
                const std::string name = !a.host.empty()   ? a.host
                                         : !a.ip.empty()   ? a.ip
                                         : !a.user.empty() ? a.user
                                                           : a.system;
                if (!name.empty())
                    out.push_back({{"name", name}, {"alerts", nullptr}});
            }
        }
        return out;
    }

    json systems() const {
        json out = json::array();
        if (catalog_ == nullptr)
            return out;
        for (const auto& id : catalog_->impacted_systems(i_.assets)) {
            for (const auto& s : catalog_->systems) {
                if (s.id == id)
                    out.push_back({{"id", s.id}, {"name", s.name.empty() ? s.id : s.name}});
            }
        }
        return out;
    }

    json services() const {
        json out = json::array();
        for (const auto& s : i_.services) {
            const core::Service* c = catalog_ != nullptr ? catalog_->service(s.id) : nullptr;
            const bool started = s.started_at != 0;
            json met = nullptr;
            std::string state = "no-clock";
            const char* text = w_.no_clock;
            if (started && s.recovered_at != 0) {
                met = s.recovered_at <= s.deadline();
                state = met.get<bool>() ? "recovered" : "recovered-late";
                text = met.get<bool>() ? w_.recovered : w_.breached;
            } else if (started && (s.breached || in_.now > s.deadline())) {
                met = false;
                state = "breached";
                text = w_.breached;
            } else if (started) {
                state = "running";
                text = w_.running;
            }
            out.push_back({{"id", s.id},
                           {"name", c != nullptr && !c->name.empty() ? c->name : s.name},
                           {"rto", core::format_duration(s.rto)},
                           {"rto_seconds", s.rto / core::kSecond},
                           {"started_at", ts(s.started_at)},
                           {"deadline", started ? ts(s.deadline()) : json(nullptr)},
                           {"recovered_at", ts(s.recovered_at)},
                           {"met", met},
                           {"state", state},
                           {"state_text", text},
                           {"breach_predicted", s.breach_predicted}});
        }
        return out;
    }

    // Personal data is involved when people said so, else when the data is of class 3B or above
    // (the classes of personal information), else unknown.
    std::string involved() const {
        if (auto it = facts_.find("personal-data"); it != facts_.end())
            return it->second;
        if (i_.classification && *i_.classification >= core::Classification::k3B)
            return "yes";
        return "unknown";
    }

    json personal_data() const {
        const std::string inv = involved();
        json affected = nullptr;
        if (auto it = facts_.find("affected"); it != facts_.end()) {
            std::int64_t n = 0;  // digits, checked by the command parser
            const auto [end, ec] =
                std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
            affected = ec == std::errc{} && end == it->second.data() + it->second.size()
                           ? json(n)
                           : json(it->second);
        }
        return {{"involved", inv},
                {"involved_text", inv == "yes"  ? w_.yes
                                  : inv == "no" ? w_.no
                                                : w_.unknown},
                {"classification",
                 i_.classification ? json(core::to_string(*i_.classification)) : json(nullptr)},
                {"affected", affected},
                {"data_items",
                 facts_.contains("data-items") ? json(facts_.at("data-items")) : json(nullptr)}};
    }

    json step_row(const core::Step& step, const core::StepState& st) const {
        return {{"step", step.id},
                {"title", step.title.empty() ? step.id : step.title},
                {"owner", step.owner},
                {"owner_name", role_name(step.owner)},
                {"status", core::to_string(st.status)},
                {"assignee", st.assignee.empty() ? json(nullptr) : json(st.assignee)},
                {"decision", st.decision.empty() ? json(nullptr) : json(st.decision)},
                {"note", st.note.empty() ? json(nullptr) : json(st.note)},
                {"milestone", step.milestone.empty() ? json(nullptr) : json(step.milestone)},
                {"due", ts(st.due_at)},
                {"finished_at", ts(st.finished_at)}};
    }

    // Containment and recovery so far: the finished steps, in the order they finished.
    json response() const {
        std::vector<std::pair<TimePoint, json>> rows;
        for (const auto& step : steps()) {
            auto it = i_.steps.find(step.id);
            if (it == i_.steps.end() || it->second.finished_at == 0)
                continue;
            rows.emplace_back(it->second.finished_at, step_row(step, it->second));
        }
        std::stable_sort(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        json out = json::array();
        for (auto& r : rows)
            out.push_back(std::move(r.second));
        return out;
    }

    // What comes next: the active steps with their owners and due times.
    json next_steps() const {
        json out = json::array();
        for (const auto& step : steps()) {
            auto it = i_.steps.find(step.id);
            if (it == i_.steps.end() || it->second.status != core::StepStatus::kActive)
                continue;
            json row = step_row(step, it->second);
            row["overdue"] = it->second.due_at != 0 && in_.now > it->second.due_at;
            out.push_back(std::move(row));
        }
        return out;
    }

    // The end of the local day `t` falls in (23:59:59 in the municipality's offset).
    TimePoint end_of_day(TimePoint t) const {
        const TimePoint off = static_cast<TimePoint>(offset_) * core::kMinute;
        const TimePoint local = t + off;
        const TimePoint day_start = local - (local % core::kDay + core::kDay) % core::kDay;
        return day_start + core::kDay - core::kSecond - off;
    }

    json deadline(const KindInfo& k, bool required, TimePoint due) const {
        TimePoint submitted = milestone_done(k.milestone);
        if (auto it = reported_.find(std::string(k.id)); it != reported_.end())
            submitted = submitted == 0 ? it->second : std::min(submitted, it->second);
        std::string state;
        const char* text = nullptr;
        json met = nullptr;
        if (submitted != 0) {
            met = submitted <= due;
            state = met.get<bool>() ? "met" : "late";
            text = met.get<bool>() ? w_.met : w_.late;
        } else if (!required) {
            state = "not-required";
            text = w_.not_required;
        } else if (in_.now > due) {
            met = false;
            state = "overdue";
            text = w_.overdue;
        } else {
            state = "pending";
            text = w_.pending;
        }
        return {{"report", k.id},    {"name", lang_ == Lang::kEn ? k.name_en : k.name_ja},
                {"due", ts(due)},    {"submitted_at", ts(submitted)},
                {"met", met},        {"state", state},
                {"state_text", text}};
    }

    // The reporting deadlines: the first report always; the PPC's when personal data is
    // involved, a step of the playbook asks for it, or it was reported anyway.
    json deadlines() const {
        json out = json::array();
        bool activated = false;
        TimePoint due = milestone_due("first-report", &activated);
        out.push_back(
            deadline(info(Kind::kFirst), true, due != 0 ? due : end_of_day(i_.opened_at)));
        const bool personal = involved() == "yes";
        for (Kind kind : {Kind::kPpcPreliminary, Kind::kPpcFinal}) {
            const KindInfo& k = info(kind);
            activated = false;
            due = milestone_due(k.milestone, &activated);
            if (due == 0)
                due = i_.opened_at + (kind == Kind::kPpcFinal ? kPpcFinalDue : kPpcPreliminaryDue);
            out.push_back(deadline(k, personal || activated, due));
        }
        return out;
    }

    // The post-incident review: the exercise report's shape (sim::build_report over this one
    // incident, seconds from detection), with what people said went well or badly and their
    // improvement plan after the plan seeded from late steps and breached RTOs. `service_rows`:
    // services() of this report, whose states the review's services take.
    json review(const json& service_rows) const {
        json r = nullptr;
        if (in_.engine != nullptr) {
            sim::Scenario scenario;
            scenario.id = i_.id;
            scenario.title = i_.title;
            sim::DrillLog log;
            log.start = i_.opened_at;
            log.end = i_.resolved_at != 0 ? i_.resolved_at : in_.now;
            for (const auto& e : in_.record.timeline) {
                log.last_activity = std::max(log.last_activity, e.at);
                if (e.kind == "opened" || e.kind == "event")
                    ++log.events;
            }
            r = sim::build_report(scenario, *in_.engine, {in_.record}, log, lang_);
        }
        json out = json::object();
        json inc = r.is_object() && !r["incidents"].empty() ? r["incidents"][0] : json::object();
        const TimePoint contained = milestone_done("contained");
        // Scored once the incident is resolved: before, every service still down counts as
        // missed.
        out["score"] = r.is_object() && !i_.open() ? r["score"] : json(nullptr);
        out["time_to_acknowledge_seconds"] = inc.value("time_to_acknowledge_seconds", json());
        out["time_to_contain_seconds"] =
            contained != 0 ? json((contained - i_.opened_at) / core::kSecond) : json(nullptr);
        out["time_to_resolve_seconds"] = i_.resolved_at != 0
                                             ? json((i_.resolved_at - i_.opened_at) / core::kSecond)
                                             : json(nullptr);
        out["services"] = r.is_object() ? r["services"] : json::array();
        for (auto& svc : out["services"]) {  // running, recovered or breached, as of `now`
            for (const auto& n : service_rows) {
                if (n["id"] == svc["id"]) {
                    svc["state"] = n["state"];
                    svc["state_text"] = n["state_text"];
                }
            }
        }
        out["steps"] = r.is_object() ? r["steps"] : json::array();
        out["escalations"] = r.is_object() ? r["escalations"] : json::array();
        out["timeline"] = inc.value("timeline", json::array());
        out["went_well"] = well_;
        out["went_badly"] = badly_;
        json plan = r.is_object() ? r["improvements"] : json::array();
        for (const auto& row : improvements_)
            plan.push_back(row);
        out["improvements"] = plan;
        return out;
    }

    Kind kind_;
    const Input& in_;
    const core::Incident& i_;
    Lang lang_;
    const Words& w_;
    const core::Catalog* catalog_ = nullptr;
    const core::Playbook* pb_ = nullptr;
    int offset_ = 9 * 60;
    TimePoint occurred_ = 0;
    std::map<std::string, std::string> facts_;
    std::map<std::string, TimePoint> reported_;
    json well_ = json::array();
    json badly_ = json::array();
    json improvements_ = json::array();
    json notes_ = json::array();
};

}  // namespace

std::optional<Kind> parse_kind(std::string_view text) {
    for (const auto& k : kinds()) {
        if (k.id == text)
            return k.kind;
    }
    return std::nullopt;
}

std::string_view to_string(Kind kind) {
    return info(kind).id;
}

const std::vector<Kind>& all_kinds() {
    static const std::vector<Kind> all{Kind::kFirst, Kind::kPpcPreliminary, Kind::kPpcFinal,
                                       Kind::kReview};
    return all;
}

std::optional<Format> parse_format(std::string_view text) {
    if (text == "json")
        return Format::kJson;
    if (text == "markdown" || text == "md")
        return Format::kMarkdown;
    if (text == "html")
        return Format::kHtml;
    return std::nullopt;
}

json build(Kind kind, const Input& in, Lang lang) {
    return Builder(kind, in, lang).build();
}

}  // namespace sonae::report
