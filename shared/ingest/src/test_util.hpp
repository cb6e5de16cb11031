// Shared by the ingest tests: fixture loading, a fixed adapt context and the schema check that
// every produced event must pass.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sonae/core/event.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/time.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/loader/loader.hpp>

namespace sonae::ingest::test {

inline std::string read_file(const std::string& relative) {
    std::ifstream in(std::string(SONAE_SOURCE_DIR) + "/" + relative, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << relative);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline nlohmann::json fixture(const std::string& name) {
    auto parsed = parse_json(read_file("tests/fixtures/siem/" + name));
    REQUIRE_MESSAGE(parsed.ok(), name << ": " << parsed.error().message);
    return parsed.value();
}

inline core::TimePoint ts(const char* text) {
    auto t = core::parse_timestamp(text);
    REQUIRE(t.has_value());
    return *t;
}

inline AdaptContext context() {
    AdaptContext ctx;
    ctx.source = "test-source";
    ctx.tenant = "default";
    ctx.received_at = ts("2026-04-01T01:05:00Z");
    return ctx;
}

inline const core::SchemaValidator& event_schema() {
    static const core::SchemaValidator validator = [] {
        auto v = loader::load_schema(SONAE_SOURCE_DIR "/schemas/event.schema.json");
        REQUIRE(v);
        return std::move(v.value());
    }();
    return validator;
}

// The gateway assigns ids; a placeholder stands in so that the schema's minLength holds.
inline void check_schema_valid(const core::Event& e) {
    nlohmann::json j = core::to_json(e);
    if (e.id.empty()) {
        j["id"] = "00000000-0000-4000-8000-000000000000";
    }
    auto valid = event_schema().validate(j);
    CHECK_MESSAGE(valid.ok(), (valid.ok() ? std::string() : valid.error().message));
    CHECK_NOTHROW((void)j.dump());
}

inline std::vector<core::Event> adapt_ok(Format format, const nlohmann::json& body,
                                         const HeaderMap& headers = {}) {
    auto events = adapt(format, body, headers, context());
    REQUIRE_MESSAGE(
        events.ok(),
        (events.ok() ? std::string() : events.error().field + " " + events.error().message));
    for (const auto& e : events.value()) {
        check_schema_valid(e);
        CHECK(e.id.empty());
        CHECK(e.source == "test-source");
        CHECK(e.tenant == "default");
        CHECK(e.received_at == ts("2026-04-01T01:05:00Z"));
    }
    return events.value();
}

// The JSON pointer of the refusal, with its kind checked.
inline std::string adapt_error(Format format, const nlohmann::json& body,
                               const HeaderMap& headers = {}) {
    auto events = adapt(format, body, headers, context());
    REQUIRE_FALSE(events.ok());
    CHECK(events.error().code == core::ErrorCode::kInvalidField);
    CHECK_FALSE(events.error().message.empty());
    return events.error().field;
}

using Labels = std::map<std::string, std::string>;

}  // namespace sonae::ingest::test
