#include <map>

#include <doctest/doctest.h>

#include <sonae/core/condition.hpp>

using namespace sonae::core;

namespace {

ConditionSubject subject(std::map<std::string, std::vector<std::string>> fields,
                         std::map<std::string, std::string> decisions = {}) {
    return {[fields](const std::string& f) {
                auto it = fields.find(f);
                return it == fields.end() ? std::vector<std::string>{} : it->second;
            },
            [decisions](const std::string& s) -> std::optional<std::string> {
                auto it = decisions.find(s);
                if (it == decisions.end())
                    return std::nullopt;
                return it->second;
            }};
}

bool eval(const std::string& json, const ConditionSubject& s) {
    auto c = parse_condition(nlohmann::json::parse(json), "");
    REQUIRE(c);
    return evaluate(*c, s);
}

}  // namespace

TEST_CASE("every condition operator") {
    const auto s = subject({{"category", {"ransomware"}},
                            {"severity", {"high"}},
                            {"classification", {"3B"}},
                            {"assets.host", {"juki-ap01", "pc-1"}}},
                           {{"ppc", "report"}});
    CHECK(eval(R"({"field":"category","equals":"ransomware"})", s));
    CHECK_FALSE(eval(R"({"field":"category","equals":"phishing"})", s));
    CHECK(eval(R"({"field":"category","in":["phishing","ransomware"]})", s));
    CHECK_FALSE(eval(R"({"field":"category","in":["phishing"]})", s));
    CHECK(eval(R"({"field":"assets.host","glob":"juki-*"})",
               s));  // any value of a multi-valued field
    CHECK_FALSE(eval(R"({"field":"assets.host","glob":"koseki-*"})", s));
    CHECK(eval(R"({"field":"severity","at_least":"medium"})", s));
    CHECK(eval(R"({"field":"severity","at_least":"high"})", s));
    CHECK_FALSE(eval(R"({"field":"severity","at_least":"critical"})", s));
    CHECK(eval(R"({"field":"classification","at_least":"3C"})", s));
    CHECK_FALSE(eval(R"({"field":"classification","at_least":"3A"})", s));
    CHECK(eval(R"({"field":"labels.x","exists":false})", s));
    CHECK(eval(R"({"field":"category","exists":true})", s));
    CHECK(eval(R"({"decision":"ppc","equals":"report"})", s));
    CHECK_FALSE(eval(R"({"decision":"other","equals":"report"})", s));  // not decided yet
    CHECK(eval(R"({"decision":"ppc","in":["report","later"]})", s));
    CHECK(eval(
        R"({"all":[{"field":"category","equals":"ransomware"},{"field":"severity","at_least":"high"}]})",
        s));
    CHECK_FALSE(eval(
        R"({"all":[{"field":"category","equals":"ransomware"},{"field":"severity","at_least":"critical"}]})",
        s));
    CHECK(eval(
        R"({"any":[{"field":"category","equals":"x"},{"field":"severity","at_least":"high"}]})",
        s));
    CHECK_FALSE(eval(
        R"({"any":[{"field":"category","equals":"x"},{"field":"category","equals":"y"}]})", s));
    CHECK(eval(R"({"not":{"field":"category","equals":"x"}})", s));
}

TEST_CASE("condition parsing refuses what the schema would, with a pointer") {
    CHECK_FALSE(parse_condition(nlohmann::json::parse(R"({"field":"severity","at_least":"huge"})"),
                                "/match"));
    auto r = parse_condition(nlohmann::json::parse(R"({"all":[{"field":"a"}]})"), "/match");
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "/match/all/0");
    CHECK_FALSE(parse_condition(nlohmann::json::parse(R"({"whatever":1})"), ""));
}

TEST_CASE("glob and CIDR helpers") {
    CHECK(glob_match("juki-*", "juki-ap01"));
    CHECK(glob_match("pc-??", "pc-01"));
    CHECK_FALSE(glob_match("pc-??", "pc-001"));
}
