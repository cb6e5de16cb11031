// fuzz_adapt_<format>: bytes -> parse_json -> adapt(<format>). Built once per format with
// SONAE_FUZZ_FORMAT set to the format's name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"

namespace {

using sonae::ingest::Format;
using sonae::ingest::HeaderMap;

const Format kFormat = *sonae::ingest::parse_format(SONAE_FUZZ_FORMAT);

// CloudEvents binary mode: fixed valid attributes, plus any the input spells under "ce" so that
// header decoding is exercised too.
void cloudevents_binary(const nlohmann::json& body) {
    HeaderMap headers;
    headers.set("ce-specversion", "1.0");
    headers.set("ce-id", "fuzz-1");
    headers.set("ce-source", "/fuzz");
    headers.set("ce-type", "fuzz.event");
    const nlohmann::json* data = &body;
    if (body.is_object()) {
        if (auto ce = body.find("ce"); ce != body.end() && ce->is_object()) {
            for (const auto& [name, value] : ce->items()) {
                if (value.is_string()) {
                    headers.set("ce-" + name, value.get<std::string>());
                }
            }
        }
        if (auto d = body.find("data"); d != body.end()) {
            data = &*d;
        }
    }
    sonae::fuzz::check_result(
        sonae::ingest::adapt(kFormat, *data, headers, sonae::fuzz::context()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = sonae::ingest::parse_json(body);
    if (!parsed.ok()) {
        sonae::fuzz::check_error(parsed.error());
        return 0;
    }
    sonae::fuzz::check_result(
        sonae::ingest::adapt(kFormat, parsed.value(), HeaderMap{}, sonae::fuzz::context()));
    if (kFormat == Format::kCloudEvents) {
        cloudevents_binary(parsed.value());
    }
    return 0;
}
