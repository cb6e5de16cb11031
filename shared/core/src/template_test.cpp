#include <thread>

#include <doctest/doctest.h>

#include <sonae/core/template.hpp>

using namespace sonae::core;

TEST_CASE("templates: one view for several templates, no HTML escaping") {
    TemplateSet set;
    set.add("{{id}}: {{title}}");
    set.add("{{#open}}");
    CHECK(set.size() == 2);
    const TemplateView view(
        nlohmann::json{{"id", "INC-1"},
                       {"title", "<b>&</b>"},
                       {"labels", {{"rule_id", "5710"}}},
                       {"services", {{{"name", "住民記録"}}, {{"name", "税"}}}}});
    CHECK(set.render("{{id}}: {{title}}", view) == "INC-1: <b>&</b>");
    // Texts never added are parsed for the call, with the same result.
    CHECK(set.render("{{labels.rule_id}}", view) == "5710");
    CHECK(set.render("{{#services}}[{{name}}]{{/services}}", view) == "[住民記録][税]");
    CHECK(set.size() == 2);
    // A compiled template renders each view anew.
    CHECK(set.render("{{id}}: {{title}}", TemplateView({{"id", "INC-2"}, {"title", "t"}})) ==
          "INC-2: t");
    // An invalid template renders its error, every time.
    CHECK(set.render("{{#open}}", view).rfind("[template error:", 0) == 0);
    CHECK(set.render("{{#open}}", view).rfind("[template error:", 0) == 0);
    CHECK_FALSE(template_error("{{#open}}").empty());
    CHECK(template_error("{{id}}").empty());
    CHECK(render_template("{{id}}", {{"id", "INC-3"}}) == "INC-3");
}

TEST_CASE("one compiled template renders on several threads at once") {
    const Template t("{{#items}}{{name}},{{/items}}{{id}}");
    REQUIRE(t.valid());
    std::vector<std::string> out(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < out.size(); ++i) {
        threads.emplace_back([&, i] {
            const TemplateView v(
                {{"id", std::to_string(i)}, {"items", {{{"name", "a"}}, {{"name", "b"}}}}});
            for (int k = 0; k < 200; ++k)
                out[i] = t.render(v);
        });
    }
    for (auto& th : threads)
        th.join();
    for (std::size_t i = 0; i < out.size(); ++i)
        CHECK(out[i] == "a,b," + std::to_string(i));
}
