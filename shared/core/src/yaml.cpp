#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include <sonae/core/yaml.hpp>

namespace sonae::core {
namespace {

// The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or none.
std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size())
                return i;
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
                return i;
        }
        i += n + 1;
    }
    return std::nullopt;
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    if (node.Tag() != "?") {
        return s;  // quoted or explicitly tagged: a string
    }
    if (s == "true" || s == "True" || s == "TRUE")
        return true;
    if (s == "false" || s == "False" || s == "FALSE")
        return false;
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
        return nullptr;
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc{} && p == s.data() + s.size())
        return i;
    double d = 0;
    auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec2 == std::errc{} && p2 == s.data() + s.size() &&
        s.find_first_of("0123456789") != std::string::npos) {
        return d;
    }
    return s;
}

void convert(const YAML::Node& node, const std::string& pointer, LocatedJson& out,
             nlohmann::json& target, int depth) {
    if (depth > 64) {
        throw YAML::ParserException(node.Mark(), "document nested deeper than 64 levels");
    }
    out.lines[pointer] = node.Mark().line + 1;
    switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            target = nullptr;
            break;
        case YAML::NodeType::Scalar:
            target = scalar_to_json(node);
            break;
        case YAML::NodeType::Sequence: {
            target = nlohmann::json::array();
            std::size_t i = 0;
            for (const auto& child : node) {
                nlohmann::json v;
                convert(child, pointer + "/" + std::to_string(i++), out, v, depth + 1);
                target.push_back(std::move(v));
            }
            break;
        }
        case YAML::NodeType::Map: {
            target = nlohmann::json::object();
            for (const auto& kv : node) {
                const std::string key = kv.first.Scalar();
                if (target.contains(key)) {
                    throw YAML::ParserException(kv.first.Mark(), "duplicate key '" + key + "'");
                }
                const std::string child = pointer_append(pointer, key);
                nlohmann::json v;
                convert(kv.second, child, out, v, depth + 1);
                // A key's own line is where readers look, not the value's.
                out.lines[child] = kv.first.Mark().line + 1;
                target[key] = std::move(v);
            }
            break;
        }
    }
}

}  // namespace

std::string pointer_append(std::string_view base, std::string_view token) {
    std::string out(base);
    out += '/';
    for (char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

int LocatedJson::line_of(const std::string& pointer) const {
    std::string p = pointer;
    while (true) {
        if (auto it = lines.find(p); it != lines.end()) {
            return it->second;
        }
        if (p.empty()) {
            return 1;
        }
        auto slash = p.rfind('/');
        p = slash == std::string::npos ? std::string{} : p.substr(0, slash);
    }
}

Result<LocatedJson> parse_yaml(const std::string& text) {
    // yaml-cpp passes any bytes through, and valijson's string-length checks read past the end of
    // a malformed UTF-8 sequence (found by fuzz_playbook): refuse such text here, naming the line.
    if (const auto bad = first_invalid_utf8(text)) {
        const auto line =
            std::count(text.begin(), text.begin() + static_cast<long>(*bad), '\n') + 1;
        return Error{ErrorCode::kInvalidField, "the text is not valid UTF-8",
                     "line:" + std::to_string(line)};
    }
    LocatedJson out;
    try {
        YAML::Node root = YAML::Load(text);
        convert(root, "", out, out.value, 0);
    } catch (const YAML::Exception& e) {
        return Error{ErrorCode::kInvalidField, e.msg, "line:" + std::to_string(e.mark.line + 1)};
    }
    return out;
}

Result<LocatedJson> parse_yaml(const std::string& text, const std::string& path) {
    auto r = parse_yaml(text);
    if (!r) {
        std::string line = r.error().field.rfind("line:", 0) == 0 ? r.error().field.substr(5) : "1";
        return Error{ErrorCode::kInvalidField, path + ":" + line + ": " + r.error().message, ""};
    }
    return r;
}

}  // namespace sonae::core
