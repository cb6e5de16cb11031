#include <array>
#include <optional>
#include <vector>

#include <sonae/core/command.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/incident.hpp>

namespace sonae::core {
namespace {

struct VerbInfo {
    Verb verb;
    std::string_view name;
    std::string_view usage;
    int step_args;   // 1 when the first argument is a step id, 2 when it is a key (Command::key)
    bool needs_arg;  // an argument after the step (or the only argument)
};

constexpr std::array<VerbInfo, 17> kVerbs{{
    {Verb::kAck, "ack", "ack", 0, false},
    {Verb::kAssign, "assign", "assign <step> <user>", 1, true},
    {Verb::kDone, "done", "done <step> [note]", 1, false},
    {Verb::kSkip, "skip", "skip <step> <reason>", 1, true},
    {Verb::kFail, "fail", "fail <step> <reason>", 1, true},
    {Verb::kDecide, "decide", "decide <step> <option>", 1, true},
    {Verb::kNote, "note", "note <text>", 0, true},
    {Verb::kSeverity, "severity", "severity <critical|high|medium|low|info>", 0, true},
    {Verb::kEscalate, "escalate", "escalate [role]", 0, false},
    {Verb::kStatus, "status", "status", 0, false},
    {Verb::kTimeline, "timeline", "timeline", 0, false},
    {Verb::kResolve, "resolve", "resolve <summary>", 0, true},
    {Verb::kHelp, "help", "help", 0, false},
    {Verb::kFact, "fact", "fact <key> <value>", 2, true},
    {Verb::kWent, "went", "went <well|badly> <text>", 2, true},
    {Verb::kImprove, "improve", "improve <owner> <YYYY-MM-DD> <finding>", 2, true},
    {Verb::kReported, "reported", "reported <first|ppc-preliminary|ppc-final> [note]", 2, false},
}};

bool is_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    const int month = (s[5] - '0') * 10 + (s[6] - '0');
    const int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool is_count(std::string_view s) {
    if (s.empty() || s.size() > 9)
        return false;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

bool listed(const std::vector<std::string_view>& names, std::string_view word) {
    for (auto n : names) {
        if (n == word)
            return true;
    }
    return false;
}

std::string joined(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names)
        out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

const VerbInfo& info(Verb v) {
    for (const auto& i : kVerbs) {
        if (i.verb == v)
            return i;
    }
    return kVerbs.back();
}

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string_view next_word(std::string_view& s) {
    s = trim(s);
    std::size_t end = s.find_first_of(" \t\n\r");
    if (end == std::string_view::npos)
        end = s.size();
    std::string_view w = s.substr(0, end);
    s = trim(s.substr(end));
    return w;
}

Error usage_error(const std::string& why, std::string_view use) {
    return Error{ErrorCode::kInvalidCommand, why + " (usage: " + std::string(use) + ")", ""};
}

}  // namespace

std::string_view to_string(Verb v) {
    return info(v).name;
}
std::string_view usage(Verb v) {
    return info(v).usage;
}

const std::vector<Verb>& all_verbs() {
    static const std::vector<Verb> verbs = [] {
        std::vector<Verb> out;
        for (const auto& i : kVerbs)
            out.push_back(i.verb);
        return out;
    }();
    return verbs;
}

const std::vector<std::string_view>& fact_keys() {
    static const std::vector<std::string_view> keys{
        "summary", "occurred", "affected",    "personal-data", "data-items",
        "cause",   "harm",     "individuals", "announcement",  "prevention",
        "police",  "reporter", "contact",     "other"};
    return keys;
}

const std::vector<std::string_view>& reported_kinds() {
    static const std::vector<std::string_view> kinds{"first", "ppc-preliminary", "ppc-final"};
    return kinds;
}

std::string help_text() {
    std::string out = "commands:";
    for (const auto& i : kVerbs) {
        out += "\n  ";
        out += i.usage;
    }
    out += "\nfact keys: " + joined(fact_keys());
    return out;
}

Result<Command> parse_command(std::string_view text) {
    if (text.size() > 4096) {
        return Error{ErrorCode::kInvalidCommand, "command too long (4096 bytes at most)", ""};
    }
    std::string_view rest = trim(text);
    std::string_view word = next_word(rest);
    if (word == "/sonae" || word == "sonae")
        word = next_word(rest);
    if (word.empty()) {
        return Error{ErrorCode::kInvalidCommand, "empty command; try `help`", ""};
    }
    const VerbInfo* vi = nullptr;
    for (const auto& i : kVerbs) {
        if (i.name == word)
            vi = &i;
    }
    if (vi == nullptr) {
        return Error{ErrorCode::kInvalidCommand,
                     "unknown command '" + std::string(word.substr(0, 64)) + "'; " + help_text(),
                     ""};
    }
    Command c;
    c.verb = vi->verb;
    if (vi->step_args == 1) {
        c.step = std::string(next_word(rest));
        if (c.step.empty())
            return usage_error("missing step", vi->usage);
    } else if (vi->step_args == 2) {
        c.key = std::string(next_word(rest));
        if (c.key.empty())
            return usage_error("missing argument", vi->usage);
        if (c.verb == Verb::kImprove) {
            c.extra = std::string(next_word(rest));
            if (!is_date(c.extra))
                return usage_error(
                    "the due date is YYYY-MM-DD, not '" + c.extra.substr(0, 32) + "'", vi->usage);
        }
    }
    c.arg = std::string(rest);
    if (vi->needs_arg && c.arg.empty()) {
        return usage_error("missing argument", vi->usage);
    }
    if (!vi->needs_arg && vi->step_args == 0 && !c.arg.empty() && c.verb != Verb::kEscalate) {
        return usage_error("unexpected argument", vi->usage);
    }
    if (c.verb == Verb::kFact) {
        if (!listed(fact_keys(), c.key))
            return usage_error(
                "unknown fact '" + c.key.substr(0, 32) + "' (keys: " + joined(fact_keys()) + ")",
                "fact <key> <value>");
        if (c.key == "affected" && !is_count(c.arg))
            return usage_error("affected is a number of people, e.g. `fact affected 120`",
                               "fact affected <number>");
        if (c.key == "personal-data" && c.arg != "yes" && c.arg != "no")
            return usage_error("personal-data is yes or no", "fact personal-data <yes|no>");
    }
    if (c.verb == Verb::kWent && c.key != "well" && c.key != "badly")
        return usage_error("what went well or badly?", vi->usage);
    if (c.verb == Verb::kReported && !listed(reported_kinds(), c.key))
        return usage_error("unknown report '" + c.key.substr(0, 32) + "'", vi->usage);
    if (c.verb == Verb::kSeverity && !parse_severity(c.arg)) {
        return usage_error("unknown severity '" + c.arg.substr(0, 32) + "'", vi->usage);
    }
    if ((c.verb == Verb::kAssign || c.verb == Verb::kDecide || c.verb == Verb::kEscalate) &&
        c.arg.find_first_of(" \t") != std::string::npos) {
        return usage_error("one word expected", vi->usage);
    }
    return c;
}

IncidentAndCommand split_incident(std::string_view text) {
    std::vector<std::string_view> words;
    for (std::string_view rest = trim(text); !rest.empty(); rest = trim(rest))
        words.push_back(next_word(rest));
    // The id is looked for before the verb (after a leading "/sonae") or as the last word; one
    // quoted in the middle of a note stays part of the note.
    const std::size_t first = !words.empty() && (words[0] == "/sonae" || words[0] == "sonae");
    IncidentAndCommand out;
    std::size_t taken = words.size();
    if (first < words.size() && tenant_of_incident(words[first]))
        taken = first;
    else if (words.size() > first + 1 && tenant_of_incident(words.back()))
        taken = words.size() - 1;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i == taken)
            out.incident = std::string(words[i]);
        else
            out.command += (out.command.empty() ? "" : " ") + std::string(words[i]);
    }
    return out;
}

std::string format_command(const Command& c) {
    std::string out(to_string(c.verb));
    if (!c.step.empty())
        out += " " + c.step;
    if (!c.key.empty())
        out += " " + c.key;
    if (!c.extra.empty())
        out += " " + c.extra;
    if (!c.arg.empty())
        out += " " + c.arg;
    return out;
}

std::optional<Permission> parse_permission(std::string_view s) {
    if (s == "viewer")
        return Permission::kViewer;
    if (s == "responder")
        return Permission::kResponder;
    if (s == "commander" || s == "prefecture")
        return Permission::kCommander;
    if (s == "admin")
        return Permission::kAdmin;
    return std::nullopt;
}

std::string_view to_string(Permission p) {
    switch (p) {
        case Permission::kViewer:
            return "viewer";
        case Permission::kResponder:
            return "responder";
        case Permission::kCommander:
            return "commander";
        case Permission::kAdmin:
            return "admin";
    }
    return "viewer";
}

Permission required_permission(Verb v) {
    switch (v) {
        case Verb::kStatus:
        case Verb::kTimeline:
        case Verb::kHelp:
            return Permission::kViewer;
        case Verb::kAck:
        case Verb::kDone:
        case Verb::kFail:
        case Verb::kDecide:
        case Verb::kNote:
        case Verb::kAssign:
        case Verb::kFact:
        case Verb::kWent:
        case Verb::kImprove:
            return Permission::kResponder;
        case Verb::kSkip:
        case Verb::kSeverity:
        case Verb::kEscalate:
        case Verb::kResolve:
        case Verb::kReported:
            return Permission::kCommander;
    }
    return Permission::kAdmin;
}

}  // namespace sonae::core
