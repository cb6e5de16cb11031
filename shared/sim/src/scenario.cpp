#include <cctype>

#include <sonae/core/schema.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::sim {

std::optional<core::Duration> parse_offset(const std::string& text) {
    if (text.find('+') == std::string::npos) {
        return core::parse_duration(text);
    }
    core::Duration total = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ')
            ++i;
        if (i >= text.size())
            break;
        const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
        if (i + 1 >= text.size() || text[i + 1] != '+')
            return std::nullopt;
        i += 2;
        std::size_t j = i;
        while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])))
            ++j;
        if (j == i)
            return std::nullopt;
        const core::Duration n = std::stoll(text.substr(i, j - i));
        switch (unit) {
            case 'D':
                total += n * core::kDay;
                break;
            case 'H':
                total += n * core::kHour;
                break;
            case 'M':
                total += n * core::kMinute;
                break;
            case 'S':
                total += n * core::kSecond;
                break;
            default:
                return std::nullopt;
        }
        any = true;
        i = j;
    }
    if (!any)
        return std::nullopt;
    return total;
}

core::Result<Scenario> parse_scenario(const core::LocatedJson& doc, const std::string& path,
                                      const core::SchemaValidator& schema) {
    auto fail = [&](const std::string& pointer, const std::string& message) {
        return core::Error{core::ErrorCode::kInvalidField,
                           path + ":" + std::to_string(doc.line_of(pointer)) + ": " + message,
                           pointer};
    };
    if (auto ok = schema.validate(doc.value); !ok)
        return fail(ok.error().field, ok.error().message);
    const auto& j = doc.value;
    Scenario s;
    s.file = path;
    s.id = j.at("id").get<std::string>();
    s.title = j.at("title").get<std::string>();
    s.description = j.value("description", "");
    s.auto_players = j.value("auto_players", true);
    if (auto it = j.find("start"); it != j.end()) {
        auto t = core::parse_timestamp(it->get<std::string>());
        if (!t)
            return fail("/start", "invalid start timestamp");
        s.start = *t;
    } else {
        s.start = *core::parse_timestamp("2026-04-01T09:00:00+09:00");
    }
    auto offset = [&](const nlohmann::json& o, const char* key,
                      const std::string& ptr) -> core::Result<core::Duration> {
        auto d = parse_offset(o.at(key).get<std::string>());
        if (!d)
            return fail(ptr + "/" + key, "invalid offset '" + o.at(key).get<std::string>() + "'");
        return *d;
    };
    if (j.contains("duration")) {
        auto d = offset(j, "duration", "");
        if (!d)
            return d.error();
        s.duration = *d;
    }
    if (auto it = j.find("decisions"); it != j.end())
        s.decisions = it->get<std::map<std::string, std::string>>();
    if (auto it = j.find("durations"); it != j.end()) {
        for (const auto& [k, v] : it->items()) {
            auto d = parse_offset(v.get<std::string>());
            if (!d)
                return fail("/durations/" + k, "invalid duration");
            s.durations[k] = *d;
        }
    }
    const auto& injects = j.at("injects");
    for (std::size_t i = 0; i < injects.size(); ++i) {
        const auto& o = injects[i];
        const std::string ptr = "/injects/" + std::to_string(i);
        Inject in;
        auto at = offset(o, "at", ptr);
        if (!at)
            return at.error();
        in.at = *at;
        if (auto f = o.find("format"); f != o.end())
            in.format = ingest::parse_format(f->get<std::string>());
        in.source =
            o.value("source", in.format ? std::string(ingest::to_string(*in.format)) : "scenario");
        if (auto e = o.find("event"); e != o.end())
            in.event = *e;
        in.message = o.value("message", "");
        in.to = o.value("to", std::vector<std::string>{});
        in.tenant = o.value("tenant", "");
        s.injects.push_back(std::move(in));
    }
    const auto& players = j.value("players", nlohmann::json::array());
    for (std::size_t i = 0; i < players.size(); ++i) {
        const auto& o = players[i];
        const std::string ptr = "/players/" + std::to_string(i);
        PlayerAction p;
        auto at = offset(o, "at", ptr);
        if (!at)
            return at.error();
        p.at = *at;
        p.as = o.value("as", "player");
        p.permission = core::parse_permission(o.value("role", "commander"))
                           .value_or(core::Permission::kCommander);
        p.command = o.at("command").get<std::string>();
        if (auto c = core::parse_command(p.command); !c)
            return fail(ptr + "/command", c.error().message);
        p.incident = o.value("incident", 0);
        p.tenant = o.value("tenant", "");
        s.players.push_back(std::move(p));
    }
    const auto& expect = j.value("expect", nlohmann::json::array());
    for (std::size_t i = 0; i < expect.size(); ++i) {
        const auto& o = expect[i];
        const std::string ptr = "/expect/" + std::to_string(i);
        Expectation e;
        e.id = o.at("id").get<std::string>();
        e.score = o.value("score", 1.0);
        e.tenant = o.value("tenant", "");
        if (o.contains("step_done")) {
            e.kind = Expectation::Kind::kStepDone;
            e.subject = o.at("step_done").get<std::string>();
        } else if (o.contains("rto_met")) {
            e.kind = Expectation::Kind::kRtoMet;
            e.subject = o.at("rto_met").get<std::string>();
        } else if (o.contains("notified_role")) {
            e.kind = Expectation::Kind::kNotifiedRole;
            e.subject = o.at("notified_role").get<std::string>();
        } else if (o.contains("escalated")) {
            e.kind = Expectation::Kind::kEscalated;
            e.subject = o.at("escalated").get<std::string>();
        } else {
            e.kind = Expectation::Kind::kResolved;
        }
        if (o.contains("by")) {
            auto by = offset(o, "by", ptr);
            if (!by)
                return by.error();
            e.by = *by;
        }
        s.expect.push_back(std::move(e));
    }
    return s;
}

}  // namespace sonae::sim
