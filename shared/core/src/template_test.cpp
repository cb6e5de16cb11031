#include <thread>

#include <doctest/doctest.h>

#include <sonae/core/template.hpp>

using namespace sonae::core;

TEST_CASE("templates: one view for several templates, no HTML escaping, parsed once per thread") {
    const TemplateView view(
        nlohmann::json{{"id", "INC-1"},
                       {"title", "<b>&</b>"},
                       {"labels", {{"rule_id", "5710"}}},
                       {"services", {{{"name", "住民記録"}}, {{"name", "税"}}}}});
    CHECK(view.render("{{id}}: {{title}}") == "INC-1: <b>&</b>");
    CHECK(view.render("{{labels.rule_id}}") == "5710");
    CHECK(view.render("{{#services}}[{{name}}]{{/services}}") == "[住民記録][税]");
    // The cached parse of a template renders each view anew.
    CHECK(render_template("{{id}}", {{"id", "INC-2"}}) == "INC-2");
    CHECK(render_template("{{id}}", {{"id", "INC-3"}}) == "INC-3");
    // An invalid template renders its error, every time.
    CHECK(view.render("{{#open}}").rfind("[template error:", 0) == 0);
    CHECK(view.render("{{#open}}").rfind("[template error:", 0) == 0);
    CHECK_FALSE(template_error("{{#open}}").empty());
    // Another thread has its own cache and gets the same result.
    std::string other;
    std::thread([&] {
        other = render_template("{{id}}: {{title}}", {{"id", "X"}, {"title", "y"}});
    }).join();
    CHECK(other == "X: y");
}
