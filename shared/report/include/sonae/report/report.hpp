// Reports for real incidents (docs/reports.md): the first report to the prefecture (第一報), the
// preliminary and final reports to the Personal Information Protection Commission (速報・確報)
// and the post-incident review. Each is built as JSON from the incident and its audited timeline
// (facts people entered with `fact`, `went`, `improve` and `reported`; steps whose `milestone`
// marks containment or a report submitted), then rendered as Markdown or self-contained HTML
// through mustache templates a municipality can edit. Pure: no clock is read, no file touched.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/engine.hpp>
#include <sonae/sim/report.hpp>

namespace sonae::report {

enum class Kind { kFirst, kPpcPreliminary, kPpcFinal, kReview };
std::optional<Kind> parse_kind(std::string_view text);  // first|ppc-preliminary|ppc-final|review
std::string_view to_string(Kind kind);
const std::vector<Kind>& all_kinds();

enum class Format { kJson, kMarkdown, kHtml };
std::optional<Format> parse_format(std::string_view text);  // json | markdown (md) | html

// The first report is due by the end of the day the incident was detected (DOMAIN: no hour-based
// deadline from the ministry; same day by default). The PPC's deadlines apply when no step with
// that milestone gives its own due time: preliminary 3 days from detection (the guidance says
// 3–5), final 30 days.
constexpr core::Duration kPpcPreliminaryDue = 3 * core::kDay;
constexpr core::Duration kPpcFinalDue = 30 * core::kDay;

struct Input {
    sim::Record record;  // the incident and its timeline (sim::record_from_timeline)
    const core::Engine* engine = nullptr;  // its tenant's playbooks and catalog (may be null)
    core::TimePoint now = 0;               // deadlines not yet met are judged at this time
};

// The report as JSON (docs/reports.md lists every field). Deterministic for a given input.
nlohmann::json build(Kind kind, const Input& in, sim::Lang lang);

// The templates: "first.<lang>.md", "ppc.<lang>.md" (both PPC reports) and "review.<lang>.md"
// for each language (ja, en), and "layout.html" around the HTML body. The shipped ones are built
// into the binary from shared/report/templates/; a tenant's library may override any of them
// (`reports/` beside its playbooks, loaded by shared/loader).
const std::map<std::string, std::string>& shipped_templates();
// Empty when `name` is a template name and `text` parses, else why not.
std::string check_template(const std::string& name, const std::string& text);

class Templates {
  public:
    explicit Templates(const std::map<std::string, std::string>* overrides = nullptr)
        : overrides_(overrides) {}
    const std::string& get(const std::string& name) const;

  private:
    const std::map<std::string, std::string>* overrides_;
};

// Markdown from the kind's template; HTML is that Markdown converted by cmark-gfm (raw HTML in it
// is dropped, tables kept) inside "layout.html": one self-contained page, no script, no asset.
std::string render_markdown(const nlohmann::json& report, const Templates& templates);
std::string render_html(const nlohmann::json& report, const Templates& templates);

}  // namespace sonae::report
