#include <algorithm>
#include <cmath>
#include <queue>
#include <set>

#include <sonae/sim/simulate.hpp>

namespace sonae::sim {
namespace {

using core::Duration;
using core::TimePoint;
using nlohmann::json;

struct Item {
    enum class Kind { kInject, kPlayer, kTimer, kAuto, kActionResult };
    TimePoint at = 0;
    std::uint64_t seq = 0;
    Kind kind = Kind::kInject;
    std::size_t index = 0;  // inject/player index, or incident index
    std::string id;         // step id
    core::TimerId timer;    // timer
    core::Command command;  // auto
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct Case {
    core::Incident incident;
    std::vector<core::TimelineEntry> timeline;
    std::vector<core::Notification> notifications;
    std::map<std::string, TimePoint> escalations;  // fired key -> when
};

class Simulation {
  public:
    Simulation(const Scenario& s, const core::Engine& e, const Options& o)
        : s_(s), engine_(e), options_(o) {
        // A step some player completes, skips, fails or decides is theirs, not the auto-player's.
        for (const auto& p : s_.players) {
            auto c = core::parse_command(p.command);
            if (c && (c->verb == core::Verb::kDone || c->verb == core::Verb::kSkip ||
                      c->verb == core::Verb::kFail || c->verb == core::Verb::kDecide)) {
                scripted_.insert(c->step);
            }
        }
    }

    core::Result<json> run() {
        for (std::size_t i = 0; i < s_.injects.size(); ++i)
            push(s_.start + s_.injects[i].at, Item::Kind::kInject, i);
        for (std::size_t i = 0; i < s_.players.size(); ++i)
            push(s_.start + s_.players[i].at, Item::Kind::kPlayer, i);
        const TimePoint end = s_.start + s_.duration;
        std::size_t guard = 0;
        while (!queue_.empty()) {
            Item item = queue_.top();
            queue_.pop();
            if (item.at > end)
                break;
            if (++guard > 1000000)
                return core::Error{core::ErrorCode::kInternal, "simulation does not terminate", ""};
            now_ = item.at;
            if (auto r = handle(item); !r)
                return r.error();
        }
        return report(end);
    }

  private:
    void push_timer(TimePoint at, std::size_t index, const core::TimerId& timer) {
        Item it;
        it.at = at;
        it.seq = seq_++;
        it.kind = Item::Kind::kTimer;
        it.index = index;
        it.timer = timer;
        queue_.push(std::move(it));
    }

    void push(TimePoint at, Item::Kind kind, std::size_t index, std::string id = {},
              core::Command cmd = {}) {
        Item it;
        it.at = at;
        it.seq = seq_++;
        it.kind = kind;
        it.index = index;
        it.id = std::move(id);
        it.command = std::move(cmd);
        queue_.push(std::move(it));
    }

    Duration player_duration(const core::Step& step, const core::Incident& incident) const {
        if (auto it = options_.what_if.find(step.id); it != options_.what_if.end())
            return it->second;
        if (auto it = s_.durations.find(step.id); it != s_.durations.end())
            return it->second;
        // A deadline from the start without an estimate (a legal report) is met at the deadline.
        if (step.due_from_start && !step.estimate && step.due) {
            return std::max<Duration>(0, incident.opened_at + *step.due - now_);
        }
        return step.planned();
    }

    void absorb(std::size_t k, core::Transition&& tr) {
        Case& c = cases_[k];
        const core::Incident before = c.incident;
        c.incident = std::move(tr.incident);
        for (auto& t : tr.timeline) {
            if (t.kind == "escalation" && t.data.contains("key")) {
                c.escalations.emplace(t.data["key"].get<std::string>(), t.at);
            }
            c.timeline.push_back(std::move(t));
        }
        for (auto& n : tr.notifications)
            c.notifications.push_back(std::move(n));
        for (const auto& t : tr.timers) {
            if (!t.cancel)
                push_timer(t.due, k, t.id);
            // Cancelled timers stay queued: the engine ignores a timer it no longer holds.
        }
        const core::Playbook* pb = engine_.playbooks().find(c.incident.playbook_id);
        for (const auto& a : tr.actions) {
            const core::Step* step = pb ? pb->step(a.step) : nullptr;
            push(now_ + (step ? player_duration(*step, c.incident) : 0), Item::Kind::kActionResult,
                 k, a.step);
        }
        if (!s_.auto_players || pb == nullptr)
            return;
        for (const auto& step : pb->steps) {
            if (step.type != core::StepType::kTask && step.type != core::StepType::kDecision)
                continue;
            const auto& st = c.incident.steps[step.id];
            const auto old = before.steps.find(step.id);
            const bool was_active =
                old != before.steps.end() && old->second.status == core::StepStatus::kActive;
            if (st.status != core::StepStatus::kActive || was_active || scripted_.count(step.id))
                continue;
            core::Command cmd;
            cmd.step = step.id;
            if (step.type == core::StepType::kDecision) {
                cmd.verb = core::Verb::kDecide;
                auto d = s_.decisions.find(step.id);
                cmd.arg = d != s_.decisions.end() ? d->second : step.options.front();
            } else {
                cmd.verb = core::Verb::kDone;
            }
            push(now_ + player_duration(step, c.incident), Item::Kind::kAuto, k, "auto-player",
                 cmd);
        }
    }

    std::string next_incident_id() {
        const std::string day = core::format_yyyymmdd(now_, engine_.catalog().utc_offset_minutes);
        std::string n = std::to_string(++daily_[day]);
        if (n.size() < 4)
            n.insert(0, 4 - n.size(), '0');  // INC-YYYYMMDD-NNNN, as in Redis
        return "INC-" + day + "-" + n;
    }

    core::Result<core::Ok> apply(std::size_t k, const core::Input& input,
                                 const std::string& label) {
        auto tr = engine_.apply(cases_[k].incident, input, now_);
        if (!tr) {
            rejected_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                 {"command", label},
                                 {"error", tr.error().message}});
            return core::Ok{};
        }
        if (tr->changed)
            absorb(k, std::move(tr.value()));
        if (!cases_[k].incident.open()) {
            for (auto it = open_by_key_.begin(); it != open_by_key_.end();) {
                it = it->second == k ? open_by_key_.erase(it) : std::next(it);
            }
        }
        return core::Ok{};
    }

    core::Result<core::Ok> handle(const Item& item) {
        switch (item.kind) {
            case Item::Kind::kInject:
                return inject(s_.injects[item.index]);
            case Item::Kind::kPlayer: {
                const PlayerAction& p = s_.players[item.index];
                if (cases_.empty()) {
                    rejected_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                         {"command", p.command},
                                         {"error", "no incident is open"}});
                    return core::Ok{};
                }
                const std::size_t k =
                    p.incident > 0 ? std::min<std::size_t>(static_cast<std::size_t>(p.incident),
                                                           cases_.size()) -
                                         1
                                   : cases_.size() - 1;
                auto cmd = core::parse_command(p.command);
                if (!cmd)
                    return cmd.error();
                return apply(k, core::CommandInput{p.as, p.permission, *cmd}, p.command);
            }
            case Item::Kind::kTimer:
                return apply(item.index, core::TimerInput{item.timer, item.at},
                             "timer " + item.timer.str());
            case Item::Kind::kAuto:
                return apply(
                    item.index,
                    core::CommandInput{item.id, core::Permission::kCommander, item.command},
                    core::format_command(item.command));
            case Item::Kind::kActionResult:
                return apply(item.index, core::ActionResultInput{item.id, true, 200, "simulated"},
                             "http " + item.id);
        }
        return core::Ok{};
    }

    core::Result<core::Ok> inject(const Inject& in) {
        if (!in.message.empty()) {
            messages_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                 {"text", in.message},
                                 {"to", in.to}});
            return core::Ok{};
        }
        std::vector<core::Event> events;
        if (in.format) {
            ingest::AdaptContext ctx{in.source, "default", now_};
            auto r = ingest::adapt(*in.format, in.event, ingest::HeaderMap{}, ctx);
            if (!r)
                return core::Error{core::ErrorCode::kInvalidField,
                                   s_.file + ": inject: " + r.error().message, ""};
            events = std::move(r.value());
        } else {
            auto e = core::event_from_json(in.event);
            if (!e)
                return core::Error{core::ErrorCode::kInvalidField,
                                   s_.file + ": inject: " + e.error().message, ""};
            events.push_back(std::move(e.value()));
        }
        for (auto& e : events) {
            e.id = "sim-" + std::to_string(++event_seq_);
            e.received_at = now_;
            if (e.source.empty())
                e.source = in.source;
            e.exercise = true;
            if (e.dedup_key.empty())
                e.dedup_key = e.id;
            ++events_;
            if (auto it = open_by_key_.find(e.dedup_key); it != open_by_key_.end()) {
                if (auto r = apply(it->second, core::EventInput{e}, "event " + e.id); !r)
                    return r;
                continue;
            }
            if (e.action != core::Action::kTrigger)
                continue;  // nothing open to resolve
            const core::Playbook* pb = engine_.select(e);
            if (pb == nullptr) {
                unmatched_.push_back(e.title);
                continue;
            }
            auto tr = engine_.open(e, *pb, next_incident_id(), now_);
            if (!tr)
                return tr.error();
            cases_.emplace_back();
            open_by_key_[e.dedup_key] = cases_.size() - 1;
            absorb(cases_.size() - 1, std::move(tr.value()));
        }
        return core::Ok{};
    }

    json seconds(TimePoint t) const {
        if (t == 0)
            return nullptr;
        return (t - s_.start) / core::kSecond;
    }

    json case_report(const Case& c) const {
        const core::Incident& i = c.incident;
        const core::Playbook* pb = engine_.playbooks().find(i.playbook_id);
        json steps = json::array();
        if (pb != nullptr) {
            for (const auto& step : pb->steps) {
                const auto& st = i.steps.at(step.id);
                const bool done = st.status == core::StepStatus::kDone;
                steps.push_back(
                    {{"id", step.id},
                     {"title", step.title},
                     {"type", core::to_string(step.type)},
                     {"owner", step.owner},
                     {"status", core::to_string(st.status)},
                     {"due_seconds", seconds(st.due_at)},
                     {"done_at_seconds", done ? seconds(st.finished_at) : json(nullptr)},
                     {"on_time", done && (st.due_at == 0 || st.finished_at <= st.due_at)}});
            }
        }
        json services = json::array();
        for (const auto& svc : i.services) {
            const bool met = svc.recovered_at != 0 && svc.recovered_at <= svc.deadline();
            services.push_back({{"name", svc.id},
                                {"title", svc.name},
                                {"rto_seconds", svc.rto / core::kSecond},
                                {"recovered_at_seconds", seconds(svc.recovered_at)},
                                {"met", met},
                                {"breach_predicted", svc.breach_predicted}});
        }
        json escalations = json::array();
        for (const auto& [key, at] : c.escalations)
            escalations.push_back({{"key", key}, {"at_seconds", seconds(at)}});
        std::sort(escalations.begin(), escalations.end(), [](const json& a, const json& b) {
            return a["at_seconds"] != b["at_seconds"] ? a["at_seconds"] < b["at_seconds"]
                                                      : a["key"] < b["key"];
        });
        json timeline = json::array();
        for (const auto& t : c.timeline) {
            timeline.push_back({{"at_seconds", seconds(t.at)},
                                {"kind", t.kind},
                                {"actor", t.actor},
                                {"text", t.text}});
        }
        return {{"id", i.id},
                {"playbook", i.playbook_id},
                {"title", i.title},
                {"severity", core::to_string(i.severity)},
                {"status", core::to_string(i.status)},
                {"opened_at_seconds", seconds(i.opened_at)},
                {"acknowledged_at_seconds", seconds(i.acked_at)},
                {"resolved_at_seconds", seconds(i.resolved_at)},
                {"steps", steps},
                {"services", services},
                {"escalations", escalations},
                {"notifications", c.notifications.size()},
                {"timeline", timeline}};
    }

    bool expectation_met(const Expectation& e, TimePoint end) const {
        const TimePoint by = e.by ? s_.start + *e.by : end;
        for (const auto& c : cases_) {
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

    json report(TimePoint end) const {
        json incidents = json::array();
        json services = json::array();
        std::set<std::string> seen_services;
        for (const auto& c : cases_) {
            json r = case_report(c);
            for (const auto& svc : r["services"]) {
                if (seen_services.insert(svc["name"].get<std::string>()).second)
                    services.push_back(svc);
            }
            incidents.push_back(std::move(r));
        }
        json expectations = json::array();
        double total = 0, earned = 0;
        for (const auto& e : s_.expect) {
            const bool met = expectation_met(e, end);
            total += e.score;
            earned += met ? e.score : 0;
            expectations.push_back({{"id", e.id},
                                    {"met", met},
                                    {"score", met ? e.score : 0.0},
                                    {"max_score", e.score}});
        }
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
                {"start", core::format_timestamp(s_.start)},
                {"duration_seconds", s_.duration / core::kSecond},
                {"virtual_end_seconds", seconds(now_)},
                {"score", std::lround(score)},
                {"events", events_},
                {"incidents", incidents},
                {"services", services},
                {"steps", cases_.empty() ? json::array() : case_report(cases_.front())["steps"]},
                {"expectations", expectations},
                {"messages", messages_},
                {"rejected_commands", rejected_},
                {"unmatched_events", unmatched_}};
    }

    const Scenario& s_;
    const core::Engine& engine_;
    const Options& options_;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;
    std::uint64_t seq_ = 0;
    TimePoint now_ = 0;
    std::vector<Case> cases_;
    std::map<std::string, std::size_t> open_by_key_;
    std::map<std::string, int> daily_;
    std::set<std::string> scripted_;
    json messages_ = json::array();
    json rejected_ = json::array();
    json unmatched_ = json::array();
    int event_seq_ = 0;
    int events_ = 0;
};

}  // namespace

core::Result<json> simulate(const Scenario& scenario, const core::Engine& engine,
                            const Options& options) {
    return Simulation(scenario, engine, options).run();
}

}  // namespace sonae::sim
