// fuzz_event: canonical event parsing (core::event_from_json and the generic adapter) and the
// to_json round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using sonae::fuzz::require;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = sonae::ingest::parse_json(body);
    if (!parsed.ok()) {
        return 0;
    }
    auto first = sonae::core::event_from_json(parsed.value());
    if (first.ok()) {
        const nlohmann::json once = sonae::core::to_json(first.value());
        (void)once.dump();
        auto second = sonae::core::event_from_json(once);
        require(second.ok(), "to_json output does not read back",
                sonae::fuzz::printable(once) + "\n" +
                    (second.ok() ? std::string() : second.error().message));
        const nlohmann::json twice = sonae::core::to_json(second.value());
        require(once == twice, "to_json/event_from_json is not a fixed point",
                sonae::fuzz::printable(once) + "\n" + sonae::fuzz::printable(twice));
    } else {
        sonae::fuzz::check_error(first.error());
    }
    // Through the generic adapter the same input must be refused or schema-valid.
    sonae::fuzz::check_result(sonae::ingest::adapt(sonae::ingest::Format::kGeneric, parsed.value(),
                                                   sonae::ingest::HeaderMap{},
                                                   sonae::fuzz::context()));
    return 0;
}
