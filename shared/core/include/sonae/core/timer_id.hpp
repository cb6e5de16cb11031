// The id of a timer an incident holds: one parse and one format instead of string prefixes.
// The text form ("due:<step>", "soon:<step>", "wait:<step>", "esc:<rule>",
// "esc:<rule>:<service>", "rto:<service>", "predict:<service>", "inject:<n>") is what incident
// state and Redis store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sonae::core {

struct TimerId {
    enum class Kind {
        kDue,         // a step's due time
        kSoon,        // a step's due time is near (its owner is reminded)
        kWait,        // a wait step ends
        kEscalation,  // an escalation rule (per service for RTO fractions)
        kRto,         // a service's RTO deadline
        kPredict,     // the projection of a service's recovery crosses its deadline
        kInject,      // a live drill's inject or scripted player action (subject: its index)
    };
    Kind kind = Kind::kDue;
    std::string subject;  // step (due, soon, wait), rule (escalation) or service (rto, predict)
    std::string service;  // escalation at a fraction of this service's RTO; else empty

    static TimerId due(std::string step) { return {Kind::kDue, std::move(step), {}}; }
    static TimerId soon(std::string step) { return {Kind::kSoon, std::move(step), {}}; }
    static TimerId wait(std::string step) { return {Kind::kWait, std::move(step), {}}; }
    static TimerId escalation(std::string rule, std::string service = {}) {
        return {Kind::kEscalation, std::move(rule), std::move(service)};
    }
    static TimerId rto(std::string service) { return {Kind::kRto, std::move(service), {}}; }
    static TimerId predict(std::string service) { return {Kind::kPredict, std::move(service), {}}; }
    static TimerId inject(std::string index) { return {Kind::kInject, std::move(index), {}}; }

    static std::optional<TimerId> parse(std::string_view text);
    std::string str() const;

    bool operator==(const TimerId&) const = default;
    // Ordered as their text, so that timers due at the same moment fire in a stable order.
    bool operator<(const TimerId& o) const { return str() < o.str(); }
};

}  // namespace sonae::core
