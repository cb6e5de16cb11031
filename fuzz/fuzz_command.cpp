// fuzz_command: the chat/CLI/API command parser. Never crashes; whatever parses formats back
// to text that parses to the same command.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <sonae/core/command.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = sonae::core::parse_command(text);
    if (!c.ok()) {
        sonae::fuzz::require(!c.error().message.empty(), "error without a message");
        return 0;
    }
    const std::string again = sonae::core::format_command(c.value());
    auto d = sonae::core::parse_command(again);
    sonae::fuzz::require(d.ok(), "formatted command does not parse", again);
    sonae::fuzz::require(d.value().verb == c.value().verb && d.value().step == c.value().step,
                         "formatted command parses differently", again);
    return 0;
}
