// YAML documents read as JSON (so one JSON Schema validates YAML and JSON alike) while keeping
// the line of every node, so errors can say `file:line: message`.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <sonae/core/result.hpp>

namespace sonae::core {

// A JSON pointer (RFC 6901) with one more reference token: "/a" + "b/c" -> "/a/b~1c".
std::string pointer_append(std::string_view base, std::string_view token);

struct LocatedJson {
    nlohmann::json value;
    std::map<std::string, int> lines;  // JSON pointer -> 1-based line

    // Line of the pointer or of its nearest ancestor that has one.
    int line_of(const std::string& pointer) const;
};

// Parses YAML text. Plain scalars become booleans, null, integers or floats where YAML 1.2's core
// schema says so; quoted scalars stay strings. Errors carry the line in `field` as "line:N".
Result<LocatedJson> parse_yaml(const std::string& text);

// Parses the text of `file`; the error message is "file:line: reason".
Result<LocatedJson> parse_yaml(const std::string& text, const std::string& file);

}  // namespace sonae::core
