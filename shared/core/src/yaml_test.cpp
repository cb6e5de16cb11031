#include <doctest/doctest.h>

#include <sonae/core/yaml.hpp>

using namespace sonae::core;

TEST_CASE("YAML becomes JSON with YAML 1.2 core types and lines") {
    auto r = parse_yaml("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 30m\nf: 3A\ng:\n  - x\n  - 2.5\n");
    REQUIRE(r);
    const auto& j = r->value;
    CHECK(j["a"] == 1);
    CHECK(j["b"] == "1");
    CHECK(j["c"] == true);
    CHECK(j["d"].is_null());
    CHECK(j["e"] == "30m");
    CHECK(j["f"] == "3A");
    CHECK(j["g"][1] == 2.5);
    CHECK(r->line_of("/a") == 1);
    CHECK(r->line_of("/g") == 7);
    CHECK(r->line_of("/g/1") == 9);
    CHECK(r->line_of("/g/1/nothing") == 9);  // nearest ancestor
}

TEST_CASE("YAML errors and duplicate keys carry a line") {
    auto r = parse_yaml("a: 1\nb: [\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().field.rfind("line:", 0) == 0);
    auto d = parse_yaml("a: 1\nb: 2\na: 3\n");
    REQUIRE_FALSE(d);
    CHECK(d.error().field == "line:3");
    CHECK(d.error().message.find("duplicate key") != std::string::npos);
    auto f = parse_yaml("a: 1\nb: [\n", "pb.yaml");
    REQUIRE_FALSE(f);
    CHECK(f.error().message.rfind("pb.yaml:", 0) == 0);
}

TEST_CASE("text that is not UTF-8 is refused with its line (valijson would read past it)") {
    const auto bad = sonae::core::parse_yaml("id: a\ntitle: \"x\x80\x80\x80\x80\x80\x80\x80y\"\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().field == "line:2");
    CHECK_FALSE(sonae::core::parse_yaml("t: \"\xed\xa0\x80\"\n"));  // a surrogate
    CHECK_FALSE(sonae::core::parse_yaml("t: \"\xc0\xaf\"\n"));      // overlong
    CHECK_FALSE(sonae::core::parse_yaml("t: \"\xe4\xbd\"\n"));      // cut short
    CHECK(sonae::core::parse_yaml("t: 住民記録 🚨\n"));
}
