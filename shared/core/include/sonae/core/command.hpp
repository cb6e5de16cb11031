// The command language (PRODUCT §9), the same from chat, the CLI and the REST API:
// ack | assign <step> <user> | done <step> [note] | skip <step> <reason> | fail <step> <reason> |
// decide <step> <option> | note <text> | severity <level> | escalate [role] | status | timeline |
// resolve <summary> | help, and what the incident reports need (report/report.hpp):
// fact <key> <value> | went <well|badly> <text> | improve <owner> <YYYY-MM-DD> <finding> |
// reported <first|ppc-preliminary|ppc-final> [note]. Errors carry the usage line, never internals.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sonae/core/result.hpp>

namespace sonae::core {

enum class Verb {
    kAck,
    kAssign,
    kDone,
    kSkip,
    kFail,
    kDecide,
    kNote,
    kSeverity,
    kEscalate,
    kStatus,
    kTimeline,
    kResolve,
    kHelp,
    kFact,
    kWent,
    kImprove,
    kReported
};

// The facts only people know, entered with `fact <key> <value>` for the reports (PRODUCT §9,
// docs/reports.md): `affected` is a number of people, `personal-data` yes or no, the rest text.
const std::vector<std::string_view>& fact_keys();
// The report kinds a `reported` command records as submitted.
const std::vector<std::string_view>& reported_kinds();

struct Command {
    Verb verb = Verb::kHelp;
    std::string step;   // assign, done, skip, fail, decide
    std::string key;    // fact: key, went: well|badly, improve: owner, reported: report kind
    std::string extra;  // improve: due date
    std::string arg;    // user, note, reason, option, text, level, role, summary, value, finding

    bool changes_state() const {
        return verb != Verb::kStatus && verb != Verb::kTimeline && verb != Verb::kHelp;
    }
    // Notes and what the reports record are still taken once the incident is resolved.
    bool allowed_after_resolve() const {
        return verb == Verb::kNote || verb == Verb::kFact || verb == Verb::kWent ||
               verb == Verb::kImprove || verb == Verb::kReported;
    }
};

std::string_view to_string(Verb v);
std::string_view usage(Verb v);
// Every verb, in the order help lists them.
const std::vector<Verb>& all_verbs();
std::string help_text();

// Parses one command line. Leading "/sonae" or "sonae" is ignored.
Result<Command> parse_command(std::string_view text);
std::string format_command(const Command& c);

// A chat line may name its incident first or last ("INC-20260401-0001 ack", "done isolate
// INC-20260401-0001"; core::tenant_of_incident): that id, and the line without it.
struct IncidentAndCommand {
    std::string incident;  // empty when the line names none
    std::string command;
};
IncidentAndCommand split_incident(std::string_view text);

// Permission roles of responders and API tokens, ordered by power.
enum class Permission { kViewer = 0, kResponder = 1, kCommander = 2, kAdmin = 3 };
std::optional<Permission> parse_permission(std::string_view s);  // "prefecture" -> commander
std::string_view to_string(Permission p);
// The least permission a command needs.
Permission required_permission(Verb v);

}  // namespace sonae::core
