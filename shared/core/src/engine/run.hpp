// The engine's working state for one input (private to the engine). A Run applies one event,
// command, timer or action result to a copy of the incident and collects the effects; its
// members are defined by concern:
//   effects.cpp     timeline entries, timers, notifications and the template view
//   steps.cpp       the step graph: activation, completion, settling, opening, events
//   escalation.cpp  escalation rules and severity changes
//   rto.cpp         RTO clocks, recovery and breach prediction (the critical-path projection)
//   commands.cpp    responders' commands
//   timers.cpp      fired timers
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/engine.hpp>

namespace sonae::core::detail {

using nlohmann::json;

constexpr Duration kNever = std::numeric_limits<Duration>::min() / 4;

// finish(t) = max(c, t + d): the projected finish of a step as a function of "now" t.
// Closed under max and +constant, so the whole critical path keeps this shape.
struct Finish {
    TimePoint c = kNever;
    Duration d = kNever;
    static Finish max(const Finish& a, const Finish& b) {
        return {std::max(a.c, b.c), std::max(a.d, b.d)};
    }
    TimePoint at(TimePoint now) const { return std::max(c, d == kNever ? kNever : now + d); }
};

std::string join(const std::vector<std::string>& v, const std::string& sep);
void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from);

class Run {
  public:
    Run(const Engine& engine, const Playbook& pb, Transition& tr, TimePoint now)
        : engine_(engine), pb_(pb), catalog_(engine.catalog()), tr_(tr), now_(now) {}

    // Inputs (steps.cpp, commands.cpp, timers.cpp).
    void open(const Event& e, const std::string& id, const OpenContext& context);
    // `group`: the correlation key by which the event joined (empty: by its dedup key).
    void on_event(const Event& e, const std::string& group = {});
    Result<Ok> on_command(const CommandInput& in);
    void on_timer(const TimerId& id, TimePoint due);
    void on_action_result(const ActionResultInput& r);
    // After every input: start what became ready, recover services, finish or re-project.
    void settle();
    // Projection for one service: nullopt when it has no recovery steps left to time.
    std::optional<Finish> projection(const ServiceClock& svc);

  private:
    Incident& inc() { return tr_.incident; }

    // effects.cpp
    void timeline(const std::string& kind, const std::string& text, json data = json::object(),
                  const std::string& actor = "sonae");
    void schedule(const TimerId& id, TimePoint due);
    void cancel(const TimerId& id);
    json view(bool redacted, const json& extra = json::object());
    // A notification of `kind` with title and text rendered from the templates, both over the
    // full view and over the redacted one.
    void notify(const std::string& kind, const NotifyTarget& target, const std::string& title_tmpl,
                const std::string& text_tmpl, const json& extra = json::object());
    std::string render(const std::string& tmpl, const json& view) const;
    // A text of the message catalog (messages.hpp).
    const std::string& msg(const char* key) const { return engine_.messages().get(key); }
    NotifyTarget open_target() const;
    // A notification about one step (assigned, due soon, overdue, decision) to its owner role.
    void notify_step(const std::string& kind, const Step& s, const json& extra = json::object());

    // steps.cpp
    bool holds(const std::optional<Condition>& c);
    bool deps_finished(const Step& s);
    void activate_ready();
    void activate(const Step& s, StepState& st);
    void finish_step(const Step& s, StepStatus to, const std::string& note,
                     const std::string& actor);
    void resolve(const std::string& actor, const std::string& resolution);
    void acknowledge(const std::string& actor);

    // escalation.cpp
    void fire(const Escalation& e, const std::string& key, const json& extra = json::object());
    void fire_severity_rules();
    void fire_asset_rules();
    void count_assets(const std::vector<Asset>& assets);
    void change_severity(Severity to, const std::string& actor);

    // rto.cpp
    void add_services(const std::vector<std::string>& ids, bool start);
    void start_clock(const std::string& id);
    std::vector<const Step*> recovery_steps(const std::string& service) const;
    void update_services();
    void recover(ServiceClock& svc);
    Finish finish_of(const std::string& id, std::map<std::string, Finish>& memo, int depth = 0);
    void predict();

    const Engine& engine_;
    const Playbook& pb_;
    const Catalog& catalog_;
    Transition& tr_;
    TimePoint now_;
    // While opening, the first event and the first impacted services are told in the "opened"
    // entry itself (one timeline entry instead of several: Redis memory per incident).
    std::optional<std::size_t> opening_;  // index of that entry in tr_.timeline
    json& opening_data() { return tr_.timeline.at(*opening_).data; }
};

}  // namespace sonae::core::detail
