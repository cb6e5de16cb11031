#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
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

class Simulation {
  public:
    Simulation(const Scenario& s, const core::Engine& e, const Options& o)
        : s_(s), engine_(e), options_(&o) {
        // A step some player completes, skips, fails or decides is theirs, not the auto-player's.
        for (const auto& p : s_.players) {
            auto c = core::parse_command(p.command);
            if (c && (c->verb == core::Verb::kDone || c->verb == core::Verb::kSkip ||
                      c->verb == core::Verb::kFail || c->verb == core::Verb::kDecide)) {
                scripted_.insert(c->step);
            }
        }
    }

    core::Result<Drill> run() {
        start();
        return finish();
    }

    // Queues the injects and the scripted players; then step() handles one item at a time.
    void start() {
        for (std::size_t i = 0; i < s_.injects.size(); ++i)
            push(s_.start + s_.injects[i].at, Item::Kind::kInject, i);
        injects_left_ = s_.injects.size();
        for (std::size_t i = 0; i < s_.players.size(); ++i)
            push(s_.start + s_.players[i].at, Item::Kind::kPlayer, i);
    }

    // Handles the next item; false once the drill is over (nothing left or past its end).
    core::Result<bool> step() {
        if (queue_.empty() || queue_.top().at > end())
            return false;
        if (options_->until_recovered && injects_left_ == 0 && all_recovered())
            return false;
        Item item = queue_.top();
        queue_.pop();
        if (++handled_ > 1000000)
            return core::Error{core::ErrorCode::kInternal, "simulation does not terminate", ""};
        now_ = item.at;
        if (auto r = handle(item); !r)
            return r.error();
        return true;
    }

    core::Result<Drill> finish() {
        while (true) {
            auto more = step();
            if (!more)
                return more.error();
            if (!*more)
                break;
        }
        Drill d;
        d.records = std::move(cases_);
        d.log.start = s_.start;
        d.log.end = end();
        d.log.last_activity = now_;
        d.log.events = events_;
        d.log.messages = std::move(messages_);
        d.log.rejected_commands = std::move(rejected_);
        d.log.unmatched_events = std::move(unmatched_);
        return d;
    }

    // Records whether a duration of one of these steps was asked for (see Fork).
    void watch(const std::set<std::string>* steps) { watch_ = steps; }
    bool touched() const { return touched_; }
    void use(const Options& options) { options_ = &options; }

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
        if (watch_ != nullptr && watch_->count(step.id) != 0)
            touched_ = true;
        if (auto it = options_->what_if.find(step.id); it != options_->what_if.end())
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
        Record& c = cases_[k];
        const core::Incident before = std::move(c.incident);
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
        // Steps this transition activated: one ordered walk over both step maps (same keys).
        std::vector<const std::string*> activated;
        auto old = before.steps.begin();
        for (const auto& [id, st] : c.incident.steps) {
            if (st.status != core::StepStatus::kActive)
                continue;
            while (old != before.steps.end() && old->first < id)
                ++old;
            if (old == before.steps.end() || old->first != id ||
                old->second.status != core::StepStatus::kActive)
                activated.push_back(&id);
        }
        if (activated.empty())
            return;
        for (const auto& step : pb->steps) {  // in playbook order, as the queue's ties want
            if (step.type != core::StepType::kTask && step.type != core::StepType::kDecision)
                continue;
            if (std::none_of(activated.begin(), activated.end(),
                             [&](const std::string* id) { return *id == step.id; }) ||
                scripted_.count(step.id))
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

    std::string next_incident_id(const std::string& tenant) {
        const std::string day = core::format_yyyymmdd(now_, engine_.catalog().utc_offset_minutes);
        std::string n = std::to_string(++daily_[tenant + "/" + day]);
        if (n.size() < 4)
            n.insert(0, 4 - n.size(), '0');  // INC-YYYYMMDD-NNNN, as in Redis
        return core::incident_id_prefix(tenant) + "INC-" + day + "-" + n;
    }

    // `label` names the input in rejected_commands; made only when the engine refuses it.
    template <typename Label>
    core::Result<core::Ok> apply(std::size_t k, const core::Input& input, const Label& label) {
        auto tr = engine_.apply(cases_[k].incident, input, now_);
        if (!tr) {
            rejected_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                 {"command", label()},
                                 {"error", tr.error().message}});
            return core::Ok{};
        }
        if (tr->changed)
            absorb(k, std::move(tr.value()));
        if (!cases_[k].incident.open()) {
            for (auto it = open_by_key_.begin(); it != open_by_key_.end();) {
                it = it->second == k ? open_by_key_.erase(it) : std::next(it);
            }
            for (auto it = groups_.begin(); it != groups_.end();) {
                it = it->second.first == k ? groups_.erase(it) : std::next(it);
            }
        }
        return core::Ok{};
    }

    core::Result<core::Ok> handle(const Item& item) {
        switch (item.kind) {
            case Item::Kind::kInject:
                --injects_left_;
                return inject(s_.injects[item.index]);
            case Item::Kind::kPlayer: {
                const PlayerAction& p = s_.players[item.index];
                if (cases_.empty()) {
                    rejected_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                         {"command", p.command},
                                         {"error", "no incident is open"}});
                    return core::Ok{};
                }
                std::size_t k = cases_.size() - 1;
                if (p.incident > 0) {
                    k = std::min<std::size_t>(static_cast<std::size_t>(p.incident), cases_.size()) -
                        1;
                } else if (!p.tenant.empty()) {
                    auto it = std::find_if(cases_.rbegin(), cases_.rend(), [&](const Record& r) {
                        return r.incident.tenant == p.tenant;
                    });
                    if (it == cases_.rend()) {
                        rejected_.push_back({{"at_seconds", (now_ - s_.start) / core::kSecond},
                                             {"command", p.command},
                                             {"error", "no incident of tenant " + p.tenant}});
                        return core::Ok{};
                    }
                    k = static_cast<std::size_t>(std::distance(it, cases_.rend())) - 1;
                }
                auto cmd = core::parse_command(p.command);
                if (!cmd)
                    return cmd.error();
                return apply(k, core::CommandInput{p.as, p.permission, *cmd},
                             [&p] { return p.command; });
            }
            case Item::Kind::kTimer: {
                // A timer the incident no longer holds (cancelled, moved) is ignored by the
                // engine; skipping it here saves an incident copy per stale timer.
                const auto& timers = cases_[item.index].incident.timers;
                auto held = timers.find(item.timer);
                if (held == timers.end() || held->second != item.at)
                    return core::Ok{};
                return apply(item.index, core::TimerInput{item.timer, item.at},
                             [&item] { return "timer " + item.timer.str(); });
            }
            case Item::Kind::kAuto:
                return apply(
                    item.index,
                    core::CommandInput{item.id, core::Permission::kCommander, item.command},
                    [&item] { return core::format_command(item.command); });
            case Item::Kind::kActionResult:
                return apply(item.index, core::ActionResultInput{item.id, true, 200, "simulated"},
                             [&item] { return "http " + item.id; });
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
            ingest::AdaptContext ctx{in.source, in.tenant.empty() ? "default" : in.tenant, now_};
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
        if (!in.tenant.empty()) {
            for (auto& e : events)
                e.tenant = in.tenant;
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
            // Correlation is per tenant, as in Redis: by dedup key, else by the correlation
            // group within its window (store::IncidentStore::prepare_event does the same).
            const std::string key = e.tenant + "\n" + e.dedup_key;
            const bool trigger = e.action == core::Action::kTrigger;
            const core::Selection selection = trigger ? engine_.choose(e) : core::Selection{};
            std::optional<core::Grouping> group;
            if (selection.playbook != nullptr)
                group = engine_.grouping(e, *selection.playbook);
            const std::string gkey = group ? e.tenant + "\n" + group->key : "";
            auto g = group ? groups_.find(gkey) : groups_.end();
            std::string joined;
            if (open_by_key_.count(key) == 0 && g != groups_.end() &&
                now_ - g->second.second <= group->window) {
                open_by_key_[key] = g->second.first;
                joined = group->key;
            }
            if (auto it = open_by_key_.find(key); it != open_by_key_.end()) {
                const std::size_t k = it->second;
                if (g != groups_.end() && g->second.first == k)
                    g->second.second = std::max(g->second.second, now_);
                if (auto r =
                        apply(k, core::EventInput{e, joined}, [&e] { return "event " + e.id; });
                    !r)
                    return r;
                continue;
            }
            if (!trigger)
                continue;  // nothing open to resolve
            if (selection.playbook == nullptr) {
                unmatched_.push_back(e.title);
                continue;
            }
            auto tr = engine_.open(e, *selection.playbook, next_incident_id(e.tenant), now_,
                                   core::OpenContext{selection, group ? group->key : ""});
            if (!tr)
                return tr.error();
            cases_.emplace_back();
            open_by_key_[key] = cases_.size() - 1;
            if (group)
                groups_[gkey] = {cases_.size() - 1, now_};
            absorb(cases_.size() - 1, std::move(tr.value()));
        }
        return core::Ok{};
    }

    const Scenario& s_;
    const core::Engine& engine_;
    TimePoint end() const { return s_.start + s_.duration; }

    bool all_recovered() const {
        if (cases_.empty())
            return false;
        for (const auto& c : cases_) {
            for (const auto& svc : c.incident.services) {
                if (svc.recovered_at == 0)
                    return false;
            }
        }
        return true;
    }

    std::size_t injects_left_ = 0;
    const Options* options_;
    const std::set<std::string>* watch_ = nullptr;
    mutable bool touched_ = false;  // set by player_duration()
    std::size_t handled_ = 0;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;
    std::uint64_t seq_ = 0;
    TimePoint now_ = 0;
    std::vector<Record> cases_;
    std::map<std::string, std::size_t> open_by_key_;
    // "<tenant>\n<group key>" -> (case, time of its last alert)
    std::map<std::string, std::pair<std::size_t, TimePoint>> groups_;
    std::map<std::string, int> daily_;
    std::set<std::string> scripted_;
    json messages_ = json::array();
    json rejected_ = json::array();
    json unmatched_ = json::array();
    int event_seq_ = 0;
    int events_ = 0;
};

}  // namespace

core::Result<Drill> run_drill(const Scenario& scenario, const core::Engine& engine,
                              const Options& options) {
    return Simulation(scenario, engine, options).run();
}

struct Fork::Impl {
    std::optional<Simulation> prefix;
    std::optional<core::Error> error;
};

Fork::Fork(const Scenario& scenario, const core::Engine& engine, const Options& base,
           const std::set<std::string>& varied)
    : impl_(std::make_unique<Impl>()) {
    // Where the first varied duration is asked for: every run is the same up to that item.
    Simulation probe(scenario, engine, base);
    probe.watch(&varied);
    probe.start();
    std::size_t shared = 0;
    while (!probe.touched()) {
        auto more = probe.step();
        if (!more) {
            impl_->error = more.error();
            return;
        }
        if (!*more)
            break;
        ++shared;
    }
    if (probe.touched())
        --shared;  // the item that asked is each run's own
    impl_->prefix.emplace(scenario, engine, base);
    impl_->prefix->start();
    for (std::size_t i = 0; i < shared; ++i) {
        if (auto more = impl_->prefix->step(); !more) {
            impl_->error = more.error();
            return;
        }
    }
}

Fork::~Fork() = default;

core::Result<Drill> Fork::run(const Options& options) const {
    if (impl_->error)
        return *impl_->error;
    Simulation copy = *impl_->prefix;
    copy.use(options);
    return copy.finish();
}

core::Result<json> simulate(const Scenario& scenario, const core::Engine& engine,
                            const Options& options) {
    auto drill = run_drill(scenario, engine, options);
    if (!drill)
        return drill.error();
    return build_report(scenario, engine, drill->records, drill->log, options.lang);
}

}  // namespace sonae::sim
