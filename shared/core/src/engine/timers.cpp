// Fired timers: overdue steps, ended waits, escalation moments and RTO deadlines.
#include <algorithm>

#include "run.hpp"

namespace sonae::core::detail {

void Run::on_timer(const TimerId& id, TimePoint due) {
    Incident& i = inc();
    auto it = i.timers.find(id);
    // Cancelled, already fired or moved to another time: a timer never fires twice.
    if (it == i.timers.end() || (due != 0 && it->second != due))
        return;
    i.timers.erase(it);
    tr_.changed = true;
    switch (id.kind) {
        case TimerId::Kind::kDue: {
            const Step* s = pb_.step(id.subject);
            if (s == nullptr || i.steps[id.subject].status != StepStatus::kActive)
                return;
            timeline("overdue", "step overdue: " + s->id + " (" + s->title + ")",
                     {{"step", s->id}});
            notify_step("overdue", *s);
            const json extra = {
                {"step", {{"id", s->id}, {"title", s->title}, {"owner", s->owner}}}};
            for (const auto& e : pb_.escalation) {
                if (e.trigger != EscalationTrigger::kOverdue)
                    continue;
                if (!e.steps.empty() &&
                    std::find(e.steps.begin(), e.steps.end(), s->id) == e.steps.end())
                    continue;
                fire(e, e.id + ":" + s->id, extra);
            }
            break;
        }
        case TimerId::Kind::kSoon: {
            const Step* s = pb_.step(id.subject);
            if (s != nullptr && i.steps[id.subject].status == StepStatus::kActive) {
                notify_step("due_soon", *s);
                schedule(TimerId::due(s->id), i.steps[id.subject].due_at);
            }
            break;
        }
        case TimerId::Kind::kWait: {
            const Step* s = pb_.step(id.subject);
            if (s != nullptr && i.steps[id.subject].status == StepStatus::kActive)
                finish_step(*s, StepStatus::kDone, "waited", "sonae");
            break;
        }
        case TimerId::Kind::kEscalation:
            for (const auto& e : pb_.escalation) {
                if (e.id != id.subject)
                    continue;
                if (id.service.empty()) {
                    fire(e, e.id);
                } else if (const ServiceClock* svc = i.service(id.service);
                           svc != nullptr && svc->recovered_at == 0) {
                    fire(e, e.id + ":" + id.service,
                         {{"service",
                           {{"id", svc->id},
                            {"name", svc->name},
                            {"rto", format_duration(svc->rto)}}},
                          {"fraction", e.fraction}});
                }
            }
            break;
        case TimerId::Kind::kRto: {
            ServiceClock* svc = i.service(id.subject);
            if (svc == nullptr || svc->recovered_at != 0)
                return;
            svc->breached = true;
            timeline("rto", "RTO breached: " + svc->name + " (" + format_duration(svc->rto) + ")",
                     {{"service", svc->id}, {"rto_seconds", svc->rto / kSecond}});
            notify("rto", open_target(), msg("rto_breached.title"), msg("rto_breached.text"),
                   {{"service",
                     {{"id", svc->id}, {"name", svc->name}, {"rto", format_duration(svc->rto)}}}});
            break;
        }
        case TimerId::Kind::kPredict:
            break;  // settle() re-projects after every input
        case TimerId::Kind::kInject:
            break;  // a drill's, never an incident's (the orchestrator fires it)
    }
}

}  // namespace sonae::core::detail
