// fuzz_parse_json: the bounded parser against nlohmann's own, and routing_key_of against the
// document the parser builds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using sonae::fuzz::require;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = sonae::ingest::parse_json(body);
    auto key = sonae::ingest::routing_key_of(body);
    if (!parsed.ok()) {
        require(parsed.error().code == sonae::core::ErrorCode::kInvalidJson, "parse error kind");
        sonae::fuzz::check_error(parsed.error());
        require(!key.has_value(), "routing_key_of accepted what parse_json refused");
        return 0;
    }
    require(nlohmann::json::accept(body), "parse_json accepted what nlohmann refuses");
    const nlohmann::json& j = parsed.value();
    // What we accept serialises and reads back the same.
    auto again = sonae::ingest::parse_json(j.dump());
    require(again.ok() && again.value() == j, "dump/parse round trip");
    std::optional<std::string> expected;
    if (j.is_object()) {
        if (auto it = j.find("routing_key"); it != j.end() && it->is_string()) {
            expected = it->get<std::string>();
        }
    }
    require(key == expected, "routing_key_of disagrees with the parsed document");
    return 0;
}
