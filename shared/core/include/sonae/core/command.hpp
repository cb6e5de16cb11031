// The command language (PRODUCT §9), the same from chat, the CLI and the REST API:
// ack | assign <step> <user> | done <step> [note] | skip <step> <reason> | fail <step> <reason> |
// decide <step> <option> | note <text> | severity <level> | escalate [role] | status | timeline |
// resolve <summary> | help. Errors carry the usage line, never internals.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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
    kHelp
};

struct Command {
    Verb verb = Verb::kHelp;
    std::string step;  // assign, done, skip, fail, decide
    std::string arg;   // user, note, reason, option, text, level, role, summary

    bool changes_state() const {
        return verb != Verb::kStatus && verb != Verb::kTimeline && verb != Verb::kHelp;
    }
};

std::string_view to_string(Verb v);
std::string_view usage(Verb v);
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
