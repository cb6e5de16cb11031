// Responders' commands (PRODUCT §9): checked against the actor's permission and the step graph,
// applied with an audit entry naming the actor, the command, and before and after.
#include <algorithm>

#include "run.hpp"

namespace sonae::core::detail {

Result<Ok> Run::on_command(const CommandInput& in) {
    const Command& c = in.command;
    if (in.permission < required_permission(c.verb)) {
        return Error{ErrorCode::kForbidden,
                     "`" + std::string(to_string(c.verb)) + "` needs the " +
                         (required_permission(c.verb) == Permission::kCommander ? "commander"
                                                                                : "responder") +
                         " role",
                     ""};
    }
    if (!c.changes_state())
        return Ok{};
    Incident& i = inc();
    if (!i.open() && !c.allowed_after_resolve()) {
        return Error{ErrorCode::kConflict, "incident " + i.id + " is resolved", ""};
    }
    const std::string& actor = in.actor;
    const Step* step = nullptr;
    if (!c.step.empty()) {
        step = pb_.step(c.step);
        if (step == nullptr) {
            std::vector<std::string> ids;
            for (const auto& s : pb_.steps)
                ids.push_back(s.id);
            return Error{ErrorCode::kNotFound,
                         "unknown step '" + c.step + "' (steps: " + join(ids, ", ") + ")", ""};
        }
    }
    const json audit = {{"command", format_command(c)}};
    switch (c.verb) {
        case Verb::kAck:
            if (i.status != IncidentStatus::kTriggered)
                return Error{ErrorCode::kConflict, "already acknowledged by " + i.acked_by, ""};
            acknowledge(actor);
            break;
        case Verb::kAssign: {
            StepState& st = i.steps[step->id];
            const std::string before = st.assignee;
            st.assignee = c.arg;
            timeline("command", "assigned " + step->id + " to " + c.arg,
                     {{"command", format_command(c)},
                      {"step", step->id},
                      {"before", before},
                      {"after", c.arg}},
                     actor);
            notify_step("assigned", *step, {{"assignee", c.arg}});
            break;
        }
        case Verb::kDone:
        case Verb::kSkip:
        case Verb::kFail:
        case Verb::kDecide: {
            StepState& st = i.steps[step->id];
            if (st.status == StepStatus::kDone || st.status == StepStatus::kSkipped) {
                return Error{
                    ErrorCode::kConflict,
                    "step " + step->id + " is already " + std::string(to_string(st.status)), ""};
            }
            if (c.verb == Verb::kDecide) {
                if (step->type != StepType::kDecision)
                    return Error{ErrorCode::kInvalidCommand, step->id + " is not a decision", ""};
                if (std::find(step->options.begin(), step->options.end(), c.arg) ==
                    step->options.end()) {
                    return Error{ErrorCode::kInvalidCommand,
                                 "unknown option '" + c.arg +
                                     "' (options: " + join(step->options, ", ") + ")",
                                 ""};
                }
            }
            if (c.verb == Verb::kDone && step->type == StepType::kDecision) {
                return Error{ErrorCode::kInvalidCommand,
                             step->id + " is a decision: use `decide " + step->id + " <" +
                                 join(step->options, "|") + ">`",
                             ""};
            }
            if (c.verb != Verb::kSkip && st.status == StepStatus::kPending) {
                std::vector<std::string> waiting;
                for (const auto& d : step->after) {
                    if (!i.steps[d].finished())
                        waiting.push_back(d);
                }
                return Error{ErrorCode::kConflict,
                             "step " + step->id +
                                 " has not started (waiting for: " + join(waiting, ", ") + ")",
                             ""};
            }
            if (c.verb == Verb::kFail && st.status != StepStatus::kActive) {
                return Error{ErrorCode::kConflict, "step " + step->id + " is not active", ""};
            }
            if (c.verb == Verb::kDecide)
                st.decision = c.arg;
            const StepStatus to = c.verb == Verb::kSkip   ? StepStatus::kSkipped
                                  : c.verb == Verb::kFail ? StepStatus::kFailed
                                                          : StepStatus::kDone;
            finish_step(*step, to, c.verb == Verb::kDecide ? "decided " + c.arg : c.arg, actor);
            tr_.timeline.back().data["command"] = format_command(c);
            break;
        }
        case Verb::kNote:
            timeline("note", c.arg, audit, actor);
            break;
        case Verb::kSeverity: {
            const Severity to = *parse_severity(c.arg);
            if (to == i.severity)
                return Error{ErrorCode::kConflict, "severity is already " + c.arg, ""};
            change_severity(to, actor);
            break;
        }
        case Verb::kEscalate: {
            NotifyTarget target;
            if (!c.arg.empty()) {
                if (catalog_.role(c.arg) == nullptr &&
                    std::find(pb_.roles.begin(), pb_.roles.end(), c.arg) == pb_.roles.end()) {
                    return Error{ErrorCode::kNotFound, "unknown role '" + c.arg + "'", ""};
                }
                target.roles = {c.arg};
            } else {
                target.roles = pb_.manual_escalation.empty() ? pb_.roles : pb_.manual_escalation;
            }
            timeline("escalation", "manual escalation to " + join(target.roles, ","),
                     {{"command", format_command(c)}, {"roles", target.roles}}, actor);
            notify("escalation", target, msg("escalation.title"), msg("manual_escalation.text"),
                   {{"actor", actor}});
            break;
        }
        case Verb::kResolve:
            resolve(actor, c.arg);
            break;
        // What the incident reports read back from the timeline (report/report.hpp).
        case Verb::kFact:
            timeline("fact", c.key + ": " + c.arg,
                     {{"command", format_command(c)}, {"key", c.key}, {"value", c.arg}}, actor);
            break;
        case Verb::kWent:
            timeline("review", "went " + c.key + ": " + c.arg,
                     {{"command", format_command(c)}, {"went", c.key}, {"text", c.arg}}, actor);
            break;
        case Verb::kImprove:
            timeline("improvement", c.arg + " (" + c.key + ", " + c.extra + ")",
                     {{"command", format_command(c)},
                      {"finding", c.arg},
                      {"owner", c.key},
                      {"due", c.extra}},
                     actor);
            break;
        case Verb::kReported:
            timeline("reported", "reported: " + c.key + (c.arg.empty() ? "" : " (" + c.arg + ")"),
                     {{"command", format_command(c)}, {"report", c.key}, {"note", c.arg}}, actor);
            break;
        case Verb::kStatus:
        case Verb::kTimeline:
        case Verb::kHelp:
            break;
    }
    return Ok{};
}

}  // namespace sonae::core::detail
