// report.md and report.html: the report JSON, made printable (times as the municipality reads
// them, a has_<list> flag beside every list), through the mustache templates; HTML through
// cmark-gfm.
#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <sonae/core/template.hpp>
#include <sonae/report/report.hpp>

namespace sonae::report {
namespace {

using nlohmann::json;

// "2026-04-01T09:30:00+09:00" -> "2026-04-01 09:30"; anything else unchanged.
bool is_timestamp(const std::string& s) {
    if (s.size() != 20 && s.size() != 25)
        return false;
    const auto digits = [&](std::initializer_list<std::size_t> at) {
        for (std::size_t i : at) {
            if (s[i] < '0' || s[i] > '9')
                return false;
        }
        return true;
    };
    return digits({0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U, 11U, 12U, 14U, 15U, 17U, 18U}) && s[4] == '-' &&
           s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
           (s[19] == 'Z' || s[19] == '+' || s[19] == '-');
}

// Seconds from detection ("at", "due", "deadline") read as "D+1 H+3 M+45", the rest as
// durations ("2h30m").
std::string seconds_text(const std::string& key, std::int64_t seconds) {
    if (key.find("at_seconds") != std::string::npos || key == "due_seconds" ||
        key == "deadline_seconds")
        return sim::format_offset(seconds);
    return seconds == 0 ? "0" : core::format_duration(seconds * core::kSecond);
}

// The view of the templates: the report with times as people read them, `<key>_text` beside
// every `<key>_seconds`, `has_<key>` beside every list, and `a_b` beside every key `a-b` (the
// facts' keys) so that any template engine can name it.
json printable(const json& j) {
    if (j.is_string()) {
        const std::string& s = j.get_ref<const std::string&>();
        return is_timestamp(s) ? json(s.substr(0, 10) + " " + s.substr(11, 5)) : j;
    }
    if (j.is_array()) {
        json out = json::array();
        for (const auto& v : j)
            out.push_back(printable(v));
        return out;
    }
    if (!j.is_object())
        return j;
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
        out[k] = printable(v);
        if (v.is_array())
            out["has_" + k] = !v.empty();
        if (k.ends_with("_seconds") && v.is_number_integer())
            out[k.substr(0, k.size() - 8) + "_text"] = seconds_text(k, v.get<std::int64_t>());
        if (std::string alias = k; alias.find('-') != std::string::npos) {
            std::replace(alias.begin(), alias.end(), '-', '_');
            out[alias] = out[k];
        }
    }
    return out;
}

// A value inside Markdown: its punctuation stays text (an alert title cannot add a link, a
// table cell or HTML), and a line break would end a table row.
std::string markdown_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '\\':
            case '`':
            case '*':
            case '_':
            case '[':
            case ']':
            case '<':
            case '>':
            case '|':
            case '#':
            case '!':
            case '~':
            case '&':
                out += '\\';
                out += c;
                break;
            case '\n':
            case '\r':
                out += ' ';
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Markdown (with GFM tables) to HTML; raw HTML in the input is dropped (no CMARK_OPT_UNSAFE).
std::string markdown_to_html(const std::string& md) {
    static std::once_flag registered;
    std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });
    cmark_parser* parser = cmark_parser_new(CMARK_OPT_DEFAULT);
    if (cmark_syntax_extension* table = cmark_find_syntax_extension("table"))
        cmark_parser_attach_syntax_extension(parser, table);
    cmark_parser_feed(parser, md.data(), md.size());
    cmark_node* doc = cmark_parser_finish(parser);
    char* html =
        cmark_render_html(doc, CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser));
    std::string out = html != nullptr ? html : "";
    std::free(html);
    cmark_node_free(doc);
    cmark_parser_free(parser);
    return out;
}

// first.<lang>.md, ppc.<lang>.md (both PPC reports: one form) or review.<lang>.md.
std::string template_name(const json& report) {
    std::string kind = report.value("kind", "first");
    if (kind.starts_with("ppc-"))
        kind = "ppc";
    return kind + "." + report.value("lang", "ja") + ".md";
}

json view_of(const json& report) {
    json view = printable(report);
    std::string kind = "kind_" + report.value("kind", "first");
    std::replace(kind.begin(), kind.end(), '-', '_');
    view[kind] = true;  // kind_first, kind_ppc_preliminary, kind_ppc_final, kind_review
    return view;
}

}  // namespace

std::string render_markdown(const json& report, const Templates& templates) {
    return core::render_template(templates.get(template_name(report)), view_of(report),
                                 markdown_escape);
}

std::string render_html(const json& report, const Templates& templates) {
    json view = view_of(report);  // one view for the Markdown and the layout around it
    const std::string md =
        core::render_template(templates.get(template_name(report)), view, markdown_escape);
    view["body"] = markdown_to_html(md);  // {{{body}}}: as is
    return core::render_template(templates.get("layout.html"), view, html_escape);
}

const std::string& Templates::get(const std::string& name) const {
    if (overrides_ != nullptr) {
        if (auto it = overrides_->find(name); it != overrides_->end())
            return it->second;
    }
    static const std::string none;
    auto it = shipped_templates().find(name);
    return it != shipped_templates().end() ? it->second : none;
}

std::string check_template(const std::string& name, const std::string& text) {
    if (!shipped_templates().contains(name)) {
        std::string names;
        for (const auto& [n, t] : shipped_templates())
            names += (names.empty() ? "" : ", ") + n;
        return "'" + name + "' is not a report template (templates: " + names + ")";
    }
    const std::string error = core::template_error(text);
    return error.empty() ? error : "invalid template: " + error;
}

}  // namespace sonae::report
