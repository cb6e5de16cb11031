#include <sonae/core/timer_id.hpp>

namespace sonae::core {
namespace {

constexpr std::string_view kDue = "due";
constexpr std::string_view kSoon = "soon";
constexpr std::string_view kWait = "wait";
constexpr std::string_view kEscalation = "esc";
constexpr std::string_view kRto = "rto";
constexpr std::string_view kPredict = "predict";
constexpr std::string_view kInject = "inject";

}  // namespace

std::optional<TimerId> TimerId::parse(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon + 1 >= text.size())
        return std::nullopt;
    const std::string_view kind = text.substr(0, colon);
    std::string rest(text.substr(colon + 1));
    if (kind == kDue)
        return due(std::move(rest));
    if (kind == kSoon)
        return soon(std::move(rest));
    if (kind == kWait)
        return wait(std::move(rest));
    if (kind == kRto)
        return rto(std::move(rest));
    if (kind == kPredict)
        return predict(std::move(rest));
    if (kind == kInject)
        return inject(std::move(rest));
    if (kind == kEscalation) {
        const auto c2 = rest.find(':');
        if (c2 == std::string::npos)
            return escalation(std::move(rest));
        if (c2 == 0 || c2 + 1 >= rest.size())
            return std::nullopt;
        return escalation(rest.substr(0, c2), rest.substr(c2 + 1));
    }
    return std::nullopt;
}

std::string TimerId::str() const {
    std::string_view k;
    switch (kind) {
        case Kind::kDue:
            k = kDue;
            break;
        case Kind::kSoon:
            k = kSoon;
            break;
        case Kind::kWait:
            k = kWait;
            break;
        case Kind::kEscalation:
            k = kEscalation;
            break;
        case Kind::kRto:
            k = kRto;
            break;
        case Kind::kPredict:
            k = kPredict;
            break;
        case Kind::kInject:
            k = kInject;
            break;
    }
    std::string out(k);
    out += ':';
    out += subject;
    if (!service.empty()) {
        out += ':';
        out += service;
    }
    return out;
}

}  // namespace sonae::core
