#include <cctype>
#include <cmath>

#include <sonae/core/exercise.hpp>

namespace sonae::core {

bool valid_exercise_id(std::string_view id) {
    // ex-YYYYMMDD-NNNN (four digits or more)
    if (id.size() < 16 || id.substr(0, 3) != "ex-" || id[11] != '-')
        return false;
    for (std::size_t i = 3; i < id.size(); ++i) {
        if (i != 11 && !std::isdigit(static_cast<unsigned char>(id[i])))
            return false;
    }
    return true;
}

std::string exercise_namespace(const std::string& tenant, const std::string& exercise) {
    return tenant + "~" + exercise;
}

std::string base_tenant(std::string_view ns) {
    return std::string(ns.substr(0, ns.find('~')));
}

std::optional<std::string> exercise_of(std::string_view ns) {
    const auto tilde = ns.find('~');
    if (tilde == std::string_view::npos)
        return std::nullopt;
    return std::string(ns.substr(tilde + 1));
}

std::string public_exercise_id(const std::string& tenant, const std::string& exercise) {
    return tenant == "default" ? exercise : tenant + "." + exercise;
}

std::optional<std::pair<std::string, std::string>> parse_public_exercise_id(std::string_view text) {
    const auto dot = text.find('.');
    std::string tenant = "default";
    if (dot != std::string_view::npos) {
        tenant = std::string(text.substr(0, dot));
        text = text.substr(dot + 1);
        if (tenant.empty() || tenant == "default")
            return std::nullopt;
        for (char c : tenant) {
            const auto u = static_cast<unsigned char>(c);
            if (!(std::islower(u) || std::isdigit(u) || c == '-'))
                return std::nullopt;
        }
    }
    if (!valid_exercise_id(text))
        return std::nullopt;
    return std::pair{tenant, std::string(text)};
}

std::string_view to_string(ExerciseState s) {
    switch (s) {
        case ExerciseState::kRunning:
            return "running";
        case ExerciseState::kPaused:
            return "paused";
        case ExerciseState::kStopped:
            return "stopped";
    }
    return "running";
}

std::optional<ExerciseState> parse_exercise_state(std::string_view s) {
    for (auto v : {ExerciseState::kRunning, ExerciseState::kPaused, ExerciseState::kStopped}) {
        if (to_string(v) == s)
            return v;
    }
    return std::nullopt;
}

TimePoint ExerciseClock::drill_time(TimePoint wall) const {
    if (paused_at != 0 && wall > paused_at)
        wall = paused_at;
    const Duration ran = wall - started_at - paused_total;
    if (ran <= 0)
        return started_at;
    return started_at + static_cast<Duration>(std::floor(static_cast<double>(ran) * speed));
}

TimePoint ExerciseClock::wall_time(TimePoint drill) const {
    const Duration ahead = drill - started_at;
    if (ahead <= 0)
        return started_at + paused_total;
    auto wall = started_at + paused_total +
                static_cast<Duration>(std::ceil(static_cast<double>(ahead) / speed));
    while (drill_time(wall) < drill)  // floating-point rounding
        ++wall;
    return wall;
}

}  // namespace sonae::core
