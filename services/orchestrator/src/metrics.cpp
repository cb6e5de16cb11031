#include "metrics.hpp"

#include <spdlog/spdlog.h>

#include <sonae/core/incident.hpp>

namespace sonae::orchestrator {

Metrics::Metrics(metrics::Registry& r)
    : events(r.counter("sonae_orchestrator_events_total",
                       "Events applied by the orchestrator, by outcome.", {"outcome"})),
      commands(r.counter("sonae_commands_total",
                         "Responder commands by result: applied, answered, refused, unknown, "
                         "invalid, duplicate.",
                         {"result"})),
      dead_lettered(r.counter("sonae_dead_lettered_total",
                              "Messages sent to a dead-letter queue, by the queue's kind.",
                              {"queue"})),
      timer_lateness(r.histogram("sonae_timer_lateness_seconds",
                                 "How late a timer fired: leased at minus due.", {},
                                 metrics::lateness_buckets())),
      timers_fired(r.counter("sonae_timers_fired_total", "Timer firings applied.")),
      incidents_open(r.gauge("sonae_incidents_open",
                             "Open incidents by tenant and severity (exercises not counted).",
                             {"tenant", "severity"})),
      rto_left(r.gauge("sonae_rto_time_left_seconds",
                       "Time left before the RTO of each impacted, unrecovered service of each "
                       "open incident; negative once breached.",
                       {"tenant", "incident", "service"})),
      timers_pending(r.gauge("sonae_timers_pending", "Timers waiting for their due time.")),
      sampled_at(r.gauge("sonae_state_sampled_timestamp_seconds",
                         "When the gauges of incident state were last read from Redis.")) {
    for (const char* o : {"opened", "correlated", "grouped", "duplicate", "no_incident",
                          "no_playbook", "refused", "unreadable"})
        events.with({o});
    for (const char* c :
         {command_result::kApplied, command_result::kAnswered, command_result::kRefused,
          command_result::kUnknown, command_result::kInvalid, command_result::kDuplicate})
        commands.with({c});
    for (const char* q : {"events", "commands"})
        dead_lettered.with({q});
}

void StateSampler::sample() {
    static constexpr core::Severity kSeverities[] = {core::Severity::kInfo, core::Severity::kLow,
                                                     core::Severity::kMedium, core::Severity::kHigh,
                                                     core::Severity::kCritical};
    const core::TimePoint now = clock_.now();
    std::vector<metrics::Sample> open, rto;
    for (const auto& [tenant, library] : libraries_) {
        std::map<core::Severity, int> by_severity;
        for (core::Severity s : kSeverities)
            by_severity[s] = 0;
        const auto ids = redis_.command({"SMEMBERS", keys_.open(tenant)});
        // In pipelines of 500, each read and counted before the next, so that neither Redis nor
        // this thread holds thousands of states at once.
        auto count = [&](const redis::Reply& state) {
            if (state.is_nil() || state.is_error())
                return;
            core::Incident inc;
            try {
                inc = core::incident_from_json(nlohmann::json::parse(state.str()));
            } catch (const std::exception& e) {
                spdlog::warn("metrics: unreadable incident state in tenant {}: {}", tenant,
                             e.what());
                return;
            }
            if (!inc.open() || inc.exercise)
                return;
            ++by_severity[inc.severity];
            for (const auto& svc : inc.services) {
                if (svc.started_at == 0 || svc.recovered_at != 0)
                    continue;
                rto.push_back({{tenant, inc.id, svc.id},
                               static_cast<double>(svc.deadline() - now) / core::kSecond});
            }
        };
        constexpr std::size_t kChunk = 500;
        const auto& all = ids.elements();
        for (std::size_t from = 0; from < all.size(); from += kChunk) {
            std::vector<std::vector<std::string>> reads;
            for (std::size_t i = from; i < all.size() && i < from + kChunk; ++i)
                reads.push_back({"HGET", keys_.incident(tenant, all[i].str()), "state"});
            for (const auto& state : redis_.pipeline(reads))
                count(state);
        }
        for (const auto& [severity, n] : by_severity)
            open.push_back({{tenant, std::string(core::to_string(severity))}, double(n)});
    }
    const auto pending = redis_.command({"ZCARD", keys_.timers()});
    metrics_.incidents_open.replace(open);
    metrics_.rto_left.replace(rto);
    metrics_.timers_pending.set(static_cast<double>(pending.integer()));
    metrics_.sampled_at.set(static_cast<double>(now) / core::kSecond);
}

}  // namespace sonae::orchestrator
