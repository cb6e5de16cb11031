// fuzz_playbook: the playbook loader (YAML -> JSON with lines -> schema -> model) and lint, on
// arbitrary text. Nothing may crash; a playbook that loads must lint without throwing, and a
// loaded playbook's steps must be found by id.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sonae/core/lint.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/yaml.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024)
        return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto doc = sonae::core::parse_yaml(text);
    if (!doc.ok())
        return 0;
    auto pb = sonae::core::parse_playbook(doc.value(), "fuzz.yaml", sonae::fuzz::playbook_schema());
    if (!pb.ok()) {
        sonae::fuzz::require(pb.error().message.rfind("fuzz.yaml:", 0) == 0,
                             "loader error without file:line", pb.error().message);
        return 0;
    }
    for (const auto& s : pb.value().steps) {
        sonae::fuzz::require(pb.value().step(s.id) == &s, "step lookup by id");
    }
    for (const auto& f : sonae::core::lint_playbook(pb.value(), sonae::core::LintContext{})) {
        sonae::fuzz::require(f.line >= 1, "finding without a line", f.message);
    }
    return 0;
}
