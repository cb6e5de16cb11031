#include <algorithm>

#include <fnmatch.h>

#include <sonae/core/condition.hpp>
#include <sonae/core/event.hpp>

namespace sonae::core {
namespace {

// Severity and classification are ordered scales; anything else compares as text.
std::optional<int> rank(const std::string& field, const std::string& v) {
    if (field == "severity") {
        if (auto s = parse_severity(v))
            return static_cast<int>(*s);
    }
    if (field == "classification") {
        if (auto c = parse_classification(v))
            return static_cast<int>(*c);
    }
    return std::nullopt;
}

bool match_values(const Condition& c, const std::vector<std::string>& have) {
    switch (c.op) {
        case Condition::Op::kExists:
            return have.empty() != c.exists;
        case Condition::Op::kEquals:
            return std::find(have.begin(), have.end(), c.values.at(0)) != have.end();
        case Condition::Op::kIn:
            return std::any_of(have.begin(), have.end(), [&](const std::string& v) {
                return std::find(c.values.begin(), c.values.end(), v) != c.values.end();
            });
        case Condition::Op::kGlob:
            return std::any_of(have.begin(), have.end(),
                               [&](const std::string& v) { return glob_match(c.values.at(0), v); });
        case Condition::Op::kAtLeast: {
            const auto want = rank(c.subject, c.values.at(0));
            if (!want)
                return false;
            return std::any_of(have.begin(), have.end(), [&](const std::string& v) {
                const auto r = rank(c.subject, v);
                return r && *r >= *want;
            });
        }
    }
    return false;
}

std::string scalar_text(const nlohmann::json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "true" : "false";
    return v.dump();
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& text) {
    return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool evaluate(const Condition& c, const ConditionSubject& subject) {
    switch (c.kind) {
        case Condition::Kind::kAll:
            return std::all_of(c.children.begin(), c.children.end(),
                               [&](const Condition& x) { return evaluate(x, subject); });
        case Condition::Kind::kAny:
            return std::any_of(c.children.begin(), c.children.end(),
                               [&](const Condition& x) { return evaluate(x, subject); });
        case Condition::Kind::kNot:
            return !evaluate(c.children.at(0), subject);
        case Condition::Kind::kField:
            return match_values(c, subject.field(c.subject));
        case Condition::Kind::kDecision: {
            auto d = subject.decision(c.subject);
            std::vector<std::string> have;
            if (d)
                have.push_back(*d);
            return match_values(c, have);
        }
    }
    return false;
}

Result<Condition> parse_condition(const nlohmann::json& j, const std::string& pointer) {
    if (!j.is_object()) {
        return Error::invalid_field(pointer, "a condition must be a mapping");
    }
    Condition c;
    c.pointer = pointer;
    auto parse_list = [&](const char* key, Condition::Kind kind) -> Result<Ok> {
        c.kind = kind;
        const auto& list = j.at(key);
        if (!list.is_array() || list.empty()) {
            return Error::invalid_field(pointer + "/" + key,
                                        std::string(key) + " needs a non-empty list");
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto child = parse_condition(list[i], pointer + "/" + key + "/" + std::to_string(i));
            if (!child)
                return child.error();
            c.children.push_back(std::move(child.value()));
        }
        return Ok{};
    };
    if (j.contains("all")) {
        if (auto r = parse_list("all", Condition::Kind::kAll); !r)
            return r.error();
        return c;
    }
    if (j.contains("any")) {
        if (auto r = parse_list("any", Condition::Kind::kAny); !r)
            return r.error();
        return c;
    }
    if (j.contains("not")) {
        c.kind = Condition::Kind::kNot;
        auto child = parse_condition(j.at("not"), pointer + "/not");
        if (!child)
            return child.error();
        c.children.push_back(std::move(child.value()));
        return c;
    }
    if (j.contains("field")) {
        c.kind = Condition::Kind::kField;
        c.subject = j.at("field").get<std::string>();
    } else if (j.contains("decision")) {
        c.kind = Condition::Kind::kDecision;
        c.subject = j.at("decision").get<std::string>();
    } else {
        return Error::invalid_field(pointer,
                                    "condition needs one of all, any, not, field, decision");
    }
    if (auto it = j.find("equals"); it != j.end()) {
        c.op = Condition::Op::kEquals;
        c.values.push_back(scalar_text(*it));
    } else if (auto in = j.find("in"); in != j.end()) {
        c.op = Condition::Op::kIn;
        for (const auto& v : *in)
            c.values.push_back(scalar_text(v));
    } else if (auto g = j.find("glob"); g != j.end()) {
        c.op = Condition::Op::kGlob;
        c.values.push_back(scalar_text(*g));
    } else if (auto a = j.find("at_least"); a != j.end()) {
        c.op = Condition::Op::kAtLeast;
        c.values.push_back(scalar_text(*a));
        if (!rank(c.subject, c.values[0])) {
            return Error::invalid_field(
                pointer + "/at_least",
                "at_least works on severity or classification with a valid level");
        }
    } else if (auto e = j.find("exists"); e != j.end()) {
        c.op = Condition::Op::kExists;
        c.exists = e->is_boolean() ? e->get<bool>() : true;
    } else {
        return Error::invalid_field(
            pointer, "condition needs an operator: equals, in, glob, at_least or exists");
    }
    return c;
}

void collect_decisions(const Condition& c,
                       std::vector<std::pair<std::string, const Condition*>>& out) {
    if (c.kind == Condition::Kind::kDecision) {
        out.emplace_back(c.subject, &c);
    }
    for (const auto& child : c.children) {
        collect_decisions(child, out);
    }
}

}  // namespace sonae::core
