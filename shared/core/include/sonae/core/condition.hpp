// Structured conditions (PRODUCT §6): field equals / in / glob / at_least / exists, and
// decisions taken in earlier steps, combined with all / any / not. No expression language:
// playbooks stay data, and lint can reason about them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/result.hpp>

namespace sonae::core {

struct Condition {
    enum class Kind { kAll, kAny, kNot, kField, kDecision };
    enum class Op { kEquals, kIn, kGlob, kAtLeast, kExists };

    Kind kind = Kind::kAll;
    std::vector<Condition> children;  // all / any / not (one child)
    std::string subject;              // field path, or the decision step id
    Op op = Op::kEquals;
    std::vector<std::string> values;  // equals: one; in: several; glob/at_least: one
    bool exists = true;
    std::string pointer;  // JSON pointer where it was written (for lint messages)
};

// What a condition is evaluated against. `field` returns every value of a field (assets.host
// has one per asset); `decision` returns the option chosen in a decision step, if any.
struct ConditionSubject {
    std::function<std::vector<std::string>(const std::string& field)> field;
    std::function<std::optional<std::string>(const std::string& step)> decision;
};

bool evaluate(const Condition& c, const ConditionSubject& subject);

// Parses a condition from JSON already checked by the playbook schema.
Result<Condition> parse_condition(const nlohmann::json& j, const std::string& pointer);

// Every (decision step, option) pair the condition refers to, for lint.
void collect_decisions(const Condition& c,
                       std::vector<std::pair<std::string, const Condition*>>& out);

// Shell-style glob (*, ?, [..]) as fnmatch(3) without flags.
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace sonae::core
