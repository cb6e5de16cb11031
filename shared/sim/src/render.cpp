// report.md and report.html from report.json: a view (labels in the report's language, times as
// facilitators write them, the SVG timeline's geometry) rendered through mustache templates.
#include <algorithm>
#include <cstdio>

#include <kainjow/mustache.hpp>

#include <sonae/sim/report.hpp>

#include "report_templates.hpp"

namespace sonae::sim {
namespace {

using nlohmann::json;
namespace mst = kainjow::mustache;

json labels(Lang lang) {
    if (lang == Lang::kEn) {
        return {{"report", "After-action report"},
                {"scenario", "Scenario"},
                {"start", "Start"},
                {"score", "Score"},
                {"tenants", "Municipalities (tenants)"},
                {"incidents", "Incidents"},
                {"incident", "Incident"},
                {"tenant", "Tenant"},
                {"playbook", "Playbook"},
                {"title", "Title"},
                {"severity", "Severity"},
                {"status", "Status"},
                {"opened", "Opened"},
                {"tta", "Time to acknowledge"},
                {"resolved", "Resolved"},
                {"services", "Business services and RTO"},
                {"service", "Service"},
                {"rto", "RTO"},
                {"deadline", "Deadline"},
                {"recovered", "Recovered"},
                {"recovery", "Recovery time"},
                {"result", "Result"},
                {"met", "✓ met"},
                {"breached", "✗ breached"},
                {"steps", "Steps: planned vs actual"},
                {"step", "Step"},
                {"owner", "Owner"},
                {"planned", "Planned"},
                {"actual", "Actual"},
                {"due", "Due"},
                {"done", "Done"},
                {"late", "late"},
                {"on_time", "on time"},
                {"escalations", "Escalations fired"},
                {"escalation", "Escalation"},
                {"at", "At"},
                {"expectations", "Expectations"},
                {"expectation", "Expectation"},
                {"kind", "What"},
                {"points", "Points"},
                {"expectation_met", "✓ met"},
                {"expectation_missed", "✗ missed"},
                {"improvements", "Improvement plan"},
                {"finding", "Finding"},
                {"due_date", "Due date"},
                {"none", "None."},
                {"timeline", "Timeline: steps against RTO deadlines"},
                {"legend_step", "step (activation → done)"},
                {"legend_late", "late step"},
                {"legend_rto", "RTO deadline of a service"},
                {"legend_clipped", "continues beyond the chart"},
                {"rto_of", "RTO"}};
    }
    return {{"report", "訓練結果報告書"},
            {"scenario", "シナリオ"},
            {"start", "開始"},
            {"score", "得点"},
            {"tenants", "参加団体（テナント）"},
            {"incidents", "インシデント"},
            {"incident", "インシデント"},
            {"tenant", "団体"},
            {"playbook", "プレイブック"},
            {"title", "件名"},
            {"severity", "重大度"},
            {"status", "状態"},
            {"opened", "発生"},
            {"tta", "受領までの時間"},
            {"resolved", "終結"},
            {"services", "業務と目標復旧時間（RTO）"},
            {"service", "業務"},
            {"rto", "RTO"},
            {"deadline", "期限"},
            {"recovered", "復旧"},
            {"recovery", "復旧所要時間"},
            {"result", "結果"},
            {"met", "✓ 達成"},
            {"breached", "✗ 超過"},
            {"steps", "手順: 計画と実績"},
            {"step", "手順"},
            {"owner", "担当"},
            {"planned", "計画"},
            {"actual", "実績"},
            {"due", "期限"},
            {"done", "完了"},
            {"late", "遅延"},
            {"on_time", "期限内"},
            {"escalations", "発報されたエスカレーション"},
            {"escalation", "エスカレーション"},
            {"at", "時刻"},
            {"expectations", "期待事項"},
            {"expectation", "期待事項"},
            {"kind", "内容"},
            {"points", "得点"},
            {"expectation_met", "✓ 達成"},
            {"expectation_missed", "✗ 未達"},
            {"improvements", "改善計画"},
            {"finding", "課題"},
            {"due_date", "期日"},
            {"none", "なし。"},
            {"timeline", "タイムライン: 手順と RTO 期限"},
            {"legend_step", "手順（開始 → 完了）"},
            {"legend_late", "期限超過の手順"},
            {"legend_rto", "業務の RTO 期限"},
            {"legend_clipped", "図の範囲外へ続く"},
            {"rto_of", "RTO"}};
}

mst::data to_data(const json& j) {
    switch (j.type()) {
        case json::value_t::object: {
            mst::data d{mst::data::type::object};
            for (const auto& [k, v] : j.items())
                d.set(k, to_data(v));
            return d;
        }
        case json::value_t::array: {
            mst::data d{mst::data::type::list};
            for (const auto& v : j)
                d.push_back(to_data(v));
            return d;
        }
        case json::value_t::string:
            return mst::data{j.get<std::string>()};
        case json::value_t::boolean:
            return j.get<bool>() ? mst::data{mst::data::type::bool_true}
                                 : mst::data{mst::data::type::bool_false};
        case json::value_t::null:
            return mst::data{mst::data::type::bool_false};
        default:
            return mst::data{j.dump()};
    }
}

std::string at(const json& seconds) {
    return seconds.is_number_integer() ? format_offset(seconds.get<std::int64_t>()) : "—";
}

std::string duration(const json& seconds) {
    if (!seconds.is_number_integer())
        return "—";
    const std::int64_t s = seconds.get<std::int64_t>();
    return s == 0 ? "0" : core::format_duration(s * core::kSecond);
}

std::string points(const json& v) {
    const double d = v.get<double>();
    char buf[32];
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f", d);
    }
    return buf;
}

// The first `n` characters of UTF-8 text, with an ellipsis when cut.
std::string cut(const std::string& text, std::size_t n) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
            continue;
        if (chars++ == n)
            return text.substr(0, i) + "…";
    }
    return text;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// The SVG timeline: one row per activated step (grouped under its incident) as a bar from
// activation to done; a vertical line at each service's RTO deadline. The time axis ends a
// little after the last deadline or recovery, so a 45-day reporting step does not squash the
// hours that matter; bars running past the axis end in "»".
json timeline(const json& report, const json& l) {
    constexpr double kLabelWidth = 330, kPlotWidth = 760, kRowHeight = 22, kLabelLine = 16;
    const json& services = report["services"];
    const bool many_tenants = report["tenants"].size() > 1;
    std::int64_t t_max = 0;
    for (const auto& s : services) {
        for (const char* key : {"deadline_seconds", "recovered_at_seconds"}) {
            if (s[key].is_number_integer())
                t_max = std::max(t_max, s[key].get<std::int64_t>());
        }
    }
    if (t_max == 0) {
        for (const auto& st : report["steps"]) {
            for (const char* key : {"activated_at_seconds", "done_at_seconds"}) {
                if (st[key].is_number_integer())
                    t_max = std::max(t_max, st[key].get<std::int64_t>());
            }
        }
    }
    t_max = std::max<std::int64_t>(3600, t_max + t_max / 10);
    std::int64_t tick = 3600;
    for (std::int64_t h : {1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720}) {
        tick = h * 3600;
        if (t_max / tick <= 12)
            break;
    }
    t_max = (t_max + tick - 1) / tick * tick;
    auto x = [&](std::int64_t t) {
        t = std::clamp<std::int64_t>(t, 0, t_max);
        return kLabelWidth + kPlotWidth * static_cast<double>(t) / static_cast<double>(t_max);
    };
    const double label_rows = static_cast<double>(services.size());
    const double tick_y = 14 + kLabelLine * label_rows;
    const double top = tick_y + 6;
    double y = top;
    json rows = json::array();
    const std::int64_t end = report["duration_seconds"].get<std::int64_t>();
    for (const auto& inc : report["incidents"]) {
        y += kRowHeight;
        rows.push_back(
            {{"head", true},
             {"text_y", num(y - 6)},
             {"label", cut(inc["id"].get<std::string>() + " [" + inc["tenant"].get<std::string>() +
                               "] " + inc["title"].get<std::string>(),
                           48)}});
        for (const auto& st : inc["steps"]) {
            if (!st["activated_at_seconds"].is_number_integer())
                continue;
            const std::int64_t from = st["activated_at_seconds"].get<std::int64_t>();
            const bool done = st["done_at_seconds"].is_number_integer();
            const bool finished = st["actual_seconds"].is_number_integer();
            const std::int64_t to =
                done ? st["done_at_seconds"].get<std::int64_t>()
                     : (finished ? from + st["actual_seconds"].get<std::int64_t>() : end);
            y += kRowHeight;
            const double x1 = x(from);
            const double x2 = std::max(x(to), x1 + 2);
            const bool late = st["late"].get<bool>();
            const std::string title = st["title"].get<std::string>();
            std::string tooltip = title + " (" + st["id"].get<std::string>() + "): " + at(from) +
                                  " → " + (done ? at(to) : std::string("—"));
            if (st["due_seconds"].is_number_integer())
                tooltip += ", " + l["due"].get<std::string>() + " " + at(st["due_seconds"]);
            if (late)
                tooltip += ", " + l["late"].get<std::string>();
            rows.push_back({{"head", false},
                            {"id", st["id"]},
                            {"incident", inc["id"]},
                            {"label", cut(title.empty() ? st["id"].get<std::string>() : title, 24)},
                            {"tooltip", tooltip},
                            {"text_y", num(y - 6)},
                            {"x", num(x1)},
                            {"y", num(y - kRowHeight + 5)},
                            {"w", num(x2 - x1)},
                            {"h", num(kRowHeight - 8)},
                            {"late", late},
                            {"open", !finished},
                            {"mark_x", num(std::min(x2, kLabelWidth + kPlotWidth) + 4)},
                            {"clipped", to > t_max},
                            {"clip_x", num(kLabelWidth + kPlotWidth + 2)}});
        }
    }
    const double bottom = y + 8;
    json lines = json::array();
    double label_y = 12;
    for (const auto& s : services) {
        if (!s["deadline_seconds"].is_number_integer())
            continue;
        const double lx = x(s["deadline_seconds"].get<std::int64_t>());
        const bool right = lx > kLabelWidth + kPlotWidth / 2;
        std::string label = s["name"].get<std::string>();
        if (many_tenants)
            label = s["tenant"].get<std::string>() + ": " + label;
        label = cut(label, 28) + " " + l["rto_of"].get<std::string>() + " " +
                duration(s["rto_seconds"]);
        lines.push_back(
            {{"id", s["id"]},
             {"tenant", s["tenant"]},
             {"x", num(lx)},
             {"y1", num(label_y + 3)},
             {"y2", num(bottom)},
             {"label", label},
             {"label_x", num(right ? lx - 4 : lx + 4)},
             {"label_y", num(label_y)},
             {"anchor", right ? "end" : "start"},
             {"tooltip", s["name"].get<std::string>() + ": " + l["deadline"].get<std::string>() +
                             " " + at(s["deadline_seconds"])}});
        label_y += kLabelLine;
    }
    json ticks = json::array();
    for (std::int64_t t = 0; t <= t_max; t += tick)
        ticks.push_back({{"x", num(x(t))}, {"label", at(json(t))}});
    return {{"width", num(kLabelWidth + kPlotWidth + 40)},
            {"height", num(bottom + 10)},
            {"top", num(top)},
            {"bottom", num(bottom)},
            {"tick_y", num(tick_y)},
            {"ticks", ticks},
            {"rows", rows},
            {"lines", lines}};
}

json view(const json& report, Lang lang) {
    const json l = labels(lang);
    json v = {{"l", l},
              {"lang", to_string(lang)},
              {"title", report["title"]},
              {"scenario", report["scenario"]},
              {"description", report.value("description", "")},
              {"start", report["start"]},
              {"score", report["score"].dump()}};
    if (v["description"] == "")
        v["description"] = false;
    std::string tenants;
    for (const auto& t : report["tenants"])
        tenants += (tenants.empty() ? "" : ", ") + t.get<std::string>();
    v["tenants_text"] = tenants.empty() ? "—" : tenants;
    json incidents = json::array();
    for (const auto& i : report["incidents"]) {
        incidents.push_back({{"id", i["id"]},
                             {"tenant", i["tenant"]},
                             {"playbook", i["playbook"]},
                             {"playbook_title", i["playbook_title"]},
                             {"title", i["title"]},
                             {"severity", i["severity"]},
                             {"status", i["status"]},
                             {"opened", at(i["opened_at_seconds"])},
                             {"tta", duration(i["time_to_acknowledge_seconds"])},
                             {"resolved", at(i["resolved_at_seconds"])}});
    }
    v["incidents"] = incidents;
    json services = json::array();
    for (const auto& s : report["services"]) {
        const bool met = s["met"].get<bool>();
        services.push_back({{"id", s["id"]},
                            {"name", s["name"]},
                            {"tenant", s["tenant"]},
                            {"rto", duration(s["rto_seconds"])},
                            {"deadline", at(s["deadline_seconds"])},
                            {"recovered", at(s["recovered_at_seconds"])},
                            {"recovery", duration(s["recovery_seconds"])},
                            {"met", met},
                            {"result", met ? l["met"] : l["breached"]}});
    }
    v["services"] = services;
    json steps = json::array();
    for (const auto& st : report["steps"]) {
        const bool late = st["late"].get<bool>();
        std::string state = st["status"].get<std::string>();
        if (late)
            state = "⚠ " + l["late"].get<std::string>() + " (" + state + ")";
        else if (st["on_time"].get<bool>())
            state += " · " + l["on_time"].get<std::string>();
        steps.push_back({{"incident", st["incident"]},
                         {"id", st["id"]},
                         {"title", st["title"]},
                         {"owner", st["owner"]},
                         {"planned", duration(st["planned_seconds"])},
                         {"actual", duration(st["actual_seconds"])},
                         {"due", at(st["due_seconds"])},
                         {"done", at(st["done_at_seconds"])},
                         {"late", late},
                         {"state", state}});
    }
    v["steps"] = steps;
    json escalations = json::array();
    for (const auto& e : report["escalations"]) {
        escalations.push_back(
            {{"at", at(e["at_seconds"])}, {"incident", e["incident"]}, {"key", e["key"]}});
    }
    v["has_escalations"] = !escalations.empty();
    v["escalations"] = escalations;
    json expectations = json::array();
    for (const auto& e : report["expectations"]) {
        const bool met = e["met"].get<bool>();
        std::string subject = e["subject"].get<std::string>();
        if (e["by_seconds"].is_number_integer())
            subject += " ≤ " + at(e["by_seconds"]);
        expectations.push_back({{"id", e["id"]},
                                {"kind", e["kind"]},
                                {"subject", subject},
                                {"met", met},
                                {"result", met ? l["expectation_met"] : l["expectation_missed"]},
                                {"score", points(e["score"])},
                                {"max_score", points(e["max_score"])}});
    }
    v["expectations"] = expectations;
    json improvements = json::array();
    int n = 0;
    for (const auto& i : report["improvements"]) {
        json row = i;
        row["n"] = std::to_string(++n);
        improvements.push_back(std::move(row));
    }
    v["has_improvements"] = !improvements.empty();
    v["improvements"] = improvements;
    return v;
}

std::string render(const char* text, const json& v, bool markdown) {
    mst::mustache tmpl{std::string(text)};
    if (markdown) {
        // Table cells: a pipe would end the cell, a newline the row.
        tmpl.set_custom_escape([](const std::string& s) {
            std::string out;
            for (char c : s) {
                if (c == '|')
                    out += "\\|";
                else if (c == '\n' || c == '\r')
                    out += ' ';
                else
                    out += c;
            }
            return out;
        });
    }
    return tmpl.render(to_data(v));
}

}  // namespace

std::string render_markdown(const json& report, Lang lang) {
    return render(templates::kMarkdown, view(report, lang), true);
}

std::string render_html(const json& report, Lang lang) {
    json v = view(report, lang);
    v["svg"] = timeline(report, v["l"]);
    return render(templates::kHtml, v, false);
}

}  // namespace sonae::sim
