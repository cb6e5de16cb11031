// parse_json limits, routing_key_of, headers and query strings.
#include <string>

#include "test_util.hpp"

namespace sonae::ingest {
namespace {

std::string nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

bool printable_ascii(const std::string& s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) {
            return false;
        }
    }
    return true;
}

TEST_CASE("parse_json accepts ordinary JSON, including UTF-8 text") {
    auto j = parse_json(R"({"title":"委託先","n":[1,2.5,true,null]})");
    REQUIRE(j.ok());
    CHECK(j.value()["title"] == "委託先");
    CHECK(j.value()["n"].size() == 4);
}

TEST_CASE("parse_json caps nesting depth without recursing") {
    CHECK(parse_json(nested(64)).ok());
    auto deep = parse_json(nested(65));
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().code == core::ErrorCode::kInvalidJson);
    CHECK(deep.error().message == "invalid JSON at byte 64: nesting deeper than 64 levels");

    ParseLimits tight;
    tight.max_depth = 2;
    CHECK(parse_json(R"({"a":{"b":1}})", tight).ok());
    auto e = parse_json(R"({"a":{"b":{"c":1}}})", tight);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message == "invalid JSON at byte 10: nesting deeper than 2 levels");

    // Brackets inside strings do not count.
    CHECK(parse_json(R"({"a":"[[[[[[[[[[[[[[[["})", tight).ok());
    // A million levels would overflow a recursive parser's stack.
    CHECK_FALSE(parse_json(nested(1'000'000)).ok());
}

TEST_CASE("parse_json refuses trailing garbage and says where") {
    auto e = parse_json(R"({"a":1} x)");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == core::ErrorCode::kInvalidJson);
    CHECK(e.error().message.find("invalid JSON at byte 8 ") == 0);
    CHECK(e.error().message.find("line 1, column 9") != std::string::npos);
    CHECK_FALSE(parse_json(R"({"a":1}{})").ok());
    CHECK_FALSE(parse_json("").ok());
    CHECK_FALSE(parse_json("   ").ok());
}

TEST_CASE("parse_json refuses invalid UTF-8 without echoing it") {
    auto e = parse_json("{\"title\":\"bad \xC3\x28\"}");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == core::ErrorCode::kInvalidJson);
    CHECK(printable_ascii(e.error().message));
    CHECK(e.error().message.find("invalid JSON at byte") == 0);
    CHECK_FALSE(parse_json("{\"a\":\"\xED\xA0\x80\"}").ok());  // UTF-16 surrogate encoded
    CHECK_FALSE(parse_json("{\"a\":\"\xC0\xAF\"}").ok());      // overlong '/'
    // The error does not repeat what was read (it could be a secret).
    auto secret = parse_json(R"({"routing_key":"s3cr3t)");
    REQUIRE_FALSE(secret.ok());
    CHECK(secret.error().message.find("s3cr3t") == std::string::npos);
}

TEST_CASE("routing_key_of streams the top-level routing_key") {
    CHECK(routing_key_of(R"({"routing_key":"abc","x":1})") == std::optional<std::string>("abc"));
    CHECK(routing_key_of(R"({"x":{"routing_key":"inner"}})") == std::nullopt);
    CHECK(routing_key_of(R"({"routing_key":5})") == std::nullopt);
    CHECK(routing_key_of(R"({"routing_key":"a","routing_key":"b"})") ==
          std::optional<std::string>("b"));
    CHECK(routing_key_of(R"({"routing_key":"a","routing_key":{}})") == std::nullopt);
    CHECK(routing_key_of(R"({"routing_key":"abc")") == std::nullopt);
    CHECK(routing_key_of(R"({"routing_key":"abc"} trailing)") == std::nullopt);
    CHECK(routing_key_of(nested(100)) == std::nullopt);
    CHECK(routing_key_of("[1]") == std::nullopt);
}

TEST_CASE("HeaderMap is case-insensitive") {
    HeaderMap h;
    h.set("Content-Type", "application/json");
    CHECK(h.get("content-type") == std::optional<std::string_view>("application/json"));
    CHECK(h.get("CONTENT-TYPE").has_value());
    CHECK_FALSE(h.get("authorization").has_value());
    h.set("CONTENT-type", "text/plain");
    CHECK(h.all().size() == 1);
    CHECK(h.get("Content-Type") == std::optional<std::string_view>("text/plain"));
}

TEST_CASE("query_param decodes one parameter") {
    CHECK(query_param("token=abc&x=1", "token") == std::optional<std::string>("abc"));
    CHECK(query_param("x=1&token=a%2Fb+c", "token") == std::optional<std::string>("a/b c"));
    CHECK(query_param("x=1", "token") == std::nullopt);
    CHECK(query_param("", "token") == std::nullopt);
    CHECK(query_param("token", "token") == std::optional<std::string>(""));
    CHECK(query_param("tok%65n=1", "token") == std::optional<std::string>("1"));
    CHECK(query_param("token=%zz%4", "token") == std::optional<std::string>("%zz%4"));
    CHECK(query_param("a=1&&token=2", "token") == std::optional<std::string>("2"));
    CHECK(query_param("token=1&token=2", "token") == std::optional<std::string>("1"));
}

TEST_CASE("format and scheme names") {
    for (auto f :
         {Format::kGeneric, Format::kCloudEvents, Format::kAlertmanager, Format::kPagerDuty,
          Format::kWazuh, Format::kElastic, Format::kSplunk, Format::kGrafana}) {
        CHECK(parse_format(to_string(f)) == f);
    }
    CHECK(parse_format("cloudevents") == Format::kCloudEvents);
    CHECK(parse_format("nagios") == std::nullopt);
    CHECK(parse_auth_scheme("query-token") == AuthScheme::kQueryToken);
    CHECK(parse_auth_scheme("hmac-sha256") == AuthScheme::kHmacSha256);
    CHECK(parse_auth_scheme("routing-key") == AuthScheme::kRoutingKey);
    CHECK(parse_auth_scheme("none") == AuthScheme::kNone);
    CHECK(parse_auth_scheme("bearer") == AuthScheme::kBearer);
    CHECK(parse_auth_scheme("basic") == AuthScheme::kBasic);
    CHECK(parse_auth_scheme("header") == AuthScheme::kHeader);
    CHECK(parse_auth_scheme("digest") == std::nullopt);
}

}  // namespace
}  // namespace sonae::ingest
