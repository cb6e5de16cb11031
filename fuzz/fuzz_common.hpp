// What the fuzz targets assert about every event they get out of the library: it serialises
// (valid UTF-8) and it matches schemas/event.schema.json. A violated invariant aborts, which
// libFuzzer reports as a crash with the input saved.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/ingest/ingest.hpp>

#include "schemas.hpp"

namespace sonae::fuzz {

inline void require(bool condition, const char* what, const std::string& detail = {}) {
    if (!condition) {
        std::fprintf(stderr, "fuzz invariant violated: %s\n%s\n", what, detail.c_str());
        std::abort();
    }
}

inline std::string printable(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 4000);
}

inline const core::SchemaValidator& event_schema() {
    static const core::SchemaValidator validator(nlohmann::json::parse(kEventSchema));
    return validator;
}

inline const core::SchemaValidator& playbook_schema() {
    static const core::SchemaValidator validator(nlohmann::json::parse(kPlaybookSchema));
    return validator;
}

inline const ingest::AdaptContext& context() {
    static const ingest::AdaptContext ctx{"fuzz-source", "default", 1775005323456};
    return ctx;
}

inline void check_event(const core::Event& e) {
    nlohmann::json j = core::to_json(e);
    if (e.id.empty()) {
        j["id"] = "00000000-0000-4000-8000-000000000000";  // the gateway assigns ids
    }
    auto valid = event_schema().validate(j);
    require(valid.ok(), "event does not match the schema",
            (valid.ok() ? std::string() : valid.error().message) + "\n" + printable(j));
    (void)j.dump();  // throws (and so crashes) on invalid UTF-8
}

// Errors end up in JSON error bodies: they must serialise too.
inline void check_error(const core::Error& error) {
    (void)nlohmann::json({{"code", core::error_code_name(error.code)},
                          {"message", error.message},
                          {"field", error.field}})
        .dump();
}

inline void check_result(const core::Result<std::vector<core::Event>>& events) {
    if (!events.ok()) {
        check_error(events.error());
        require(events.error().code == core::ErrorCode::kInvalidField,
                "adapters refuse with kInvalidField only", events.error().message);
        return;
    }
    for (const auto& e : events.value()) {
        check_event(e);
    }
}

}  // namespace sonae::fuzz
