// RTO clocks (PRODUCT §6): impacted services, their deadlines and escalation fractions,
// recovery, and breach prediction from the remaining critical path of the steps' durations.
#include <algorithm>

#include "run.hpp"

namespace sonae::core::detail {

void Run::add_services(const std::vector<std::string>& ids, bool start) {
    for (const auto& id : ids) {
        if (inc().service(id) != nullptr)
            continue;
        const Service* svc = catalog_.service(id);
        if (svc == nullptr)
            continue;  // lint reports unknown services
        inc().services.push_back(ServiceClock{svc->id, svc->name, svc->rto, 0, 0, false, false});
        const json impacted = {{"service", svc->id}, {"rto_seconds", svc->rto / kSecond}};
        if (opening_) {
            opening_data()["services"].push_back(impacted);
        } else {
            timeline("service",
                     "impacted service " + svc->name + " (RTO " + format_duration(svc->rto) + ")",
                     impacted);
        }
        if (start)
            start_clock(svc->id);
        // The service's classification raises the incident's.
        if (!inc().classification || *inc().classification < svc->classification) {
            inc().classification = svc->classification;
        }
    }
}

void Run::start_clock(const std::string& id) {
    ServiceClock* s = inc().service(id);
    if (s == nullptr || s->started_at != 0)
        return;
    s->started_at = now_;
    schedule(TimerId::rto(id), s->deadline());
    for (const auto& e : pb_.escalation) {
        if (e.trigger == EscalationTrigger::kRtoFraction) {
            const auto offset = static_cast<Duration>(static_cast<double>(s->rto) * e.fraction);
            schedule(TimerId::escalation(e.id, id), s->started_at + offset);
        }
    }
    tr_.changed = true;
}

std::vector<const Step*> Run::recovery_steps(const std::string& service) const {
    std::vector<const Step*> out;
    for (const auto& s : pb_.steps) {
        if (std::find(s.recovers.begin(), s.recovers.end(), service) != s.recovers.end())
            out.push_back(&s);
    }
    return out;
}

void Run::update_services() {
    for (auto& svc : inc().services) {
        if (svc.recovered_at != 0)
            continue;
        const auto steps = recovery_steps(svc.id);
        if (steps.empty())
            continue;
        bool all_finished = true;
        bool any_done = false;
        for (const Step* s : steps) {
            const StepState& st = inc().steps[s->id];
            all_finished = all_finished && st.finished();
            any_done = any_done || st.status == StepStatus::kDone;
        }
        if (!all_finished || !any_done)
            continue;
        recover(svc);
    }
}

void Run::recover(ServiceClock& svc) {
    if (svc.started_at == 0)
        svc.started_at = now_;
    svc.recovered_at = now_;
    const bool met = svc.recovered_at <= svc.deadline();
    timeline("rto", "recovered " + svc.name + (met ? " within RTO" : " after the RTO"),
             {{"service", svc.id},
              {"met", met},
              {"elapsed_seconds", (svc.recovered_at - svc.started_at) / kSecond},
              {"rto_seconds", svc.rto / kSecond}});
    cancel(TimerId::rto(svc.id));
    cancel(TimerId::predict(svc.id));
    for (const auto& e : pb_.escalation) {
        if (e.trigger == EscalationTrigger::kRtoFraction)
            cancel(TimerId::escalation(e.id, svc.id));
    }
}

Finish Run::finish_of(const std::string& id, std::map<std::string, Finish>& memo, int depth) {
    if (auto it = memo.find(id); it != memo.end())
        return it->second;
    const Step* s = pb_.step(id);
    if (s == nullptr || depth > 512)
        return {};
    const StepState& st = inc().steps[id];
    Finish f;
    switch (st.status) {
        case StepStatus::kDone:
        case StepStatus::kSkipped:
            f = {st.finished_at, kNever};
            break;
        case StepStatus::kActive:
            f = {st.activated_at + s->planned(), 0};
            break;
        case StepStatus::kFailed:
            f = {kNever, s->planned()};
            break;
        case StepStatus::kPending: {
            Finish deps{kNever, 0};
            for (const auto& d : s->after)
                deps = Finish::max(deps, finish_of(d, memo, depth + 1));
            deps.d = std::max<Duration>(deps.d, 0);
            f = {deps.c == kNever ? kNever : deps.c + s->planned(), deps.d + s->planned()};
            break;
        }
    }
    // A step due at a fixed time from the start (a legal deadline) without an estimate is
    // planned to finish at that time, as lint's critical path assumes.
    if (!st.finished() && s->due_from_start && !s->estimate && s->due) {
        f.c = std::max(f.c, inc().opened_at + *s->due);
    }
    memo[id] = f;
    return f;
}

// Projection for one service: nullopt when it has no recovery steps left to time.
std::optional<Finish> Run::projection(const ServiceClock& svc) {
    std::map<std::string, Finish> memo;
    std::optional<Finish> out;
    for (const Step* s : recovery_steps(svc.id)) {
        if (inc().steps[s->id].status == StepStatus::kSkipped)
            continue;
        const Finish f = finish_of(s->id, memo);
        out = out ? Finish::max(*out, f) : f;
    }
    return out;
}

void Run::predict() {
    for (auto& svc : inc().services) {
        if (svc.started_at == 0 || svc.recovered_at != 0 || svc.breached || svc.breach_predicted) {
            cancel(TimerId::predict(svc.id));
            continue;
        }
        auto p = projection(svc);
        if (!p)
            continue;
        const TimePoint projected = p->at(now_);
        const TimePoint deadline = svc.deadline();
        if (projected > deadline) {
            svc.breach_predicted = true;
            cancel(TimerId::predict(svc.id));
            timeline("rto",
                     "RTO breach predicted for " + svc.name + ": projected recovery " +
                         format_timestamp_offset(projected, catalog_.utc_offset_minutes) +
                         " > deadline " +
                         format_timestamp_offset(deadline, catalog_.utc_offset_minutes),
                     {{"service", svc.id},
                      {"projected", format_timestamp(projected)},
                      {"deadline", format_timestamp(deadline)}});
            const json extra = {
                {"service", {{"id", svc.id}, {"name", svc.name}}},
                {"projected", format_timestamp_offset(projected, catalog_.utc_offset_minutes)}};
            bool any_rule = false;
            for (const auto& e : pb_.escalation) {
                if (e.trigger == EscalationTrigger::kPredictedBreach) {
                    any_rule = true;
                    fire(e, e.id + ":" + svc.id, extra);
                }
            }
            if (!any_rule) {
                notify("rto", open_target(), msg("breach_predicted.title"),
                       msg("breach_predicted.text"), extra);
            }
        } else if (p->d != kNever) {
            // The projection crosses the deadline at t = deadline - d if nothing changes.
            const TimePoint cross = deadline - p->d + 1;
            if (cross > now_) {
                schedule(TimerId::predict(svc.id), cross);
            } else {
                cancel(TimerId::predict(svc.id));
            }
        } else {
            cancel(TimerId::predict(svc.id));
        }
    }
}

}  // namespace sonae::core::detail
