#include <sonae/core/answer.hpp>

namespace sonae::core {
namespace {

std::string clock_time(TimePoint t, int offset_minutes) {
    // "2026-04-01T10:02:03+09:00" -> "04-01 10:02"
    const std::string s = format_timestamp_offset(t, offset_minutes);
    return s.substr(5, 5) + " " + s.substr(11, 5);
}

std::string left(Duration d) {
    if (d < 0)
        return "over by " + format_duration(((-d) / kMinute) * kMinute);
    return format_duration((d / kMinute) * kMinute) + " left";
}

std::string header(const Incident& i) {
    return i.id + " [" + std::string(to_string(i.severity)) + "] " + i.title + " — " +
           std::string(to_string(i.status));
}

}  // namespace

std::string answer_ok(const Command& c, const Incident& after) {
    return "✓ " + format_command(c) + "\n" + header(after);
}

std::string answer_error(const Error& e, const std::optional<Command>& c) {
    std::string out = "✗ " + e.message;
    if (c && e.message.find("usage:") == std::string::npos)
        out += "\nusage: " + std::string(usage(c->verb));
    return out;
}

std::string status_text(const Incident& i, const Engine& engine, TimePoint now) {
    const int offset = engine.catalog().utc_offset_minutes;
    std::string out = header(i);
    const Playbook* pb = engine.playbooks().find(i.playbook_id);
    out += "\n手順 / steps:";
    if (pb != nullptr) {
        for (const auto& s : pb->steps) {
            const auto it = i.steps.find(s.id);
            if (it == i.steps.end())
                continue;
            const StepState& st = it->second;
            const char* mark = st.status == StepStatus::kDone      ? "✓"
                               : st.status == StepStatus::kSkipped ? "–"
                               : st.status == StepStatus::kFailed  ? "✗"
                               : st.status == StepStatus::kActive  ? "▶"
                                                                   : "·";
            out += "\n  " + std::string(mark) + " " + s.id + " " + s.title;
            std::string who = s.owner;
            if (!st.assignee.empty())
                who += (who.empty() ? "" : ", ") + st.assignee;
            if (!who.empty())
                out += " (" + who + ")";
            if (st.status == StepStatus::kActive && st.due_at != 0) {
                out += " due " + clock_time(st.due_at, offset) + " (" + left(st.due_at - now) + ")";
                if (st.due_at < now)
                    out += " OVERDUE";
            }
        }
    }
    if (!i.services.empty()) {
        out += "\n業務 / services (RTO):";
        const std::vector<Projection> projections = engine.project(i, now);
        for (const auto& svc : i.services) {
            out += "\n  " + svc.name + " (RTO " + format_duration(svc.rto) + "): ";
            if (svc.recovered_at != 0) {
                out += "recovered " + clock_time(svc.recovered_at, offset) +
                       (svc.recovered_at <= svc.deadline() ? " within RTO" : " after the RTO");
                continue;
            }
            if (svc.started_at == 0) {
                out += "clock starts on declaration";
                continue;
            }
            out += left(svc.deadline() - now) + " (deadline " + clock_time(svc.deadline(), offset) +
                   ")";
            for (const auto& p : projections) {
                if (p.service == svc.id && p.projected) {
                    out += *p.projected > p.deadline ? "; predicted BREACH, recovery "
                                                     : "; projected recovery ";
                    out += clock_time(*p.projected, offset);
                }
            }
        }
    }
    return out;
}

std::string timeline_text(const Incident& i, const std::vector<nlohmann::json>& entries,
                          int utc_offset_minutes, std::size_t last) {
    std::string out = header(i) + "\n経過 / timeline:";
    const std::size_t from = entries.size() > last ? entries.size() - last : 0;
    for (std::size_t k = from; k < entries.size(); ++k) {
        const nlohmann::json& e = entries[k];
        const auto at = parse_timestamp(e.value("at", ""));
        out += "\n  " + (at ? clock_time(*at, utc_offset_minutes) : std::string("?")) + " " +
               e.value("actor", "") + ": " + e.value("text", "");
    }
    return out;
}

}  // namespace sonae::core
