#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "table.hpp"

#include <doctest/doctest.h>

using sonae::cli::display_width;
using sonae::cli::Table;
using sonae::cli::truncate_to_width;

TEST_CASE("display width: Japanese characters take two columns, ASCII one") {
    CHECK(display_width("abc") == 3);
    CHECK(display_width("住民記録") == 8);
    CHECK(display_width("ｱｲｳ") == 3);  // half-width katakana
    CHECK(display_width("ランサムウェア on juki") == 22);
    CHECK(display_width("\xff") == 1);  // invalid bytes still count
}

TEST_CASE("truncate: cut on character boundaries with an ellipsis") {
    CHECK(truncate_to_width("住民記録システム", 7) == "住民記…");
    CHECK(truncate_to_width("short", 10) == "short");
    CHECK(display_width(truncate_to_width("abcdefghij", 5)) == 5);
}

TEST_CASE("table: columns line up by display width") {
    Table t({"ID", "TITLE", "X"});
    t.add({"INC-1", "住民記録", "a"});
    t.add({"INC-22", "web", "b"});
    const std::string out = t.render();
    CHECK(out ==
          "ID      TITLE     X\n"
          "INC-1   住民記録  a\n"
          "INC-22  web       b\n");
}
