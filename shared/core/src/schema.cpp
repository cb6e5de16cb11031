#include <optional>
#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <sonae/core/schema.hpp>
#include <sonae/core/time.hpp>
#include <sonae/core/yaml.hpp>

namespace sonae::core {
namespace {

// A "format": "date-time" keyword reached from the root through "properties" and "items" only:
// the document path it applies to ("*" = every array element).
struct DateTimeCheck {
    std::vector<std::string> path;
};

// valijson builds a std::regex for every date-time value it checks, which dominated the
// gateway's profile. Those keywords are removed from the schema handed to valijson and checked
// with parse_timestamp instead (the parser the rest of sonae uses). Formats elsewhere (under
// allOf, anyOf, ...) stay with valijson.
void take_date_times(nlohmann::json& schema, std::vector<std::string>& path,
                     std::vector<DateTimeCheck>& out) {
    if (!schema.is_object())
        return;
    if (auto f = schema.find("format"); f != schema.end() && f->is_string() && *f == "date-time") {
        out.push_back({path});
        schema.erase(f);
    }
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object()) {
        for (auto& [name, sub] : props->items()) {
            path.push_back(name);
            take_date_times(sub, path, out);
            path.pop_back();
        }
    }
    if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
        path.push_back("*");
        take_date_times(*items, path, out);
        path.pop_back();
    }
}

// Returns the pointer of the first value under `path` that is a string but no valid timestamp.
std::optional<std::string> bad_date_time(const nlohmann::json& doc,
                                         const std::vector<std::string>& path, std::size_t i,
                                         const std::string& pointer) {
    if (i == path.size()) {
        if (doc.is_string() && !parse_timestamp(doc.get_ref<const std::string&>()))
            return pointer;
        return std::nullopt;
    }
    if (path[i] == "*") {
        if (!doc.is_array())
            return std::nullopt;
        for (std::size_t k = 0; k < doc.size(); ++k) {
            if (auto bad = bad_date_time(doc[k], path, i + 1, pointer + "/" + std::to_string(k)))
                return bad;
        }
        return std::nullopt;
    }
    if (!doc.is_object())
        return std::nullopt;
    auto it = doc.find(path[i]);
    if (it == doc.end())
        return std::nullopt;
    return bad_date_time(*it, path, i + 1, pointer_append(pointer, path[i]));
}

}  // namespace

struct SchemaValidator::Impl {
    valijson::Schema schema;
    std::vector<DateTimeCheck> date_times;
};

SchemaValidator::SchemaValidator(const nlohmann::json& original) : impl_(std::make_unique<Impl>()) {
    nlohmann::json schema = original;
    std::vector<std::string> path;
    take_date_times(schema, path, impl_->date_times);
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    try {
        parser.populateSchema(adapter, impl_->schema);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("invalid JSON Schema: ") + e.what());
    }
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

std::string pointer_from_context(const std::vector<std::string>& context) {
    std::string out;
    for (const auto& part : context) {
        if (part == "<root>") {
            continue;
        }
        std::string name = part;
        if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
            name = name.substr(1, name.size() - 2);
        }
        out = pointer_append(out, name);
    }
    return out;
}

Result<Ok> SchemaValidator::validate(const nlohmann::json& document) const {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    if (validator.validate(impl_->schema, adapter, &results)) {
        for (const auto& check : impl_->date_times) {
            if (auto bad = bad_date_time(document, check.path, 0, "")) {
                return Error::invalid_field(*bad, *bad + ": String should be a valid date-time");
            }
        }
        return Ok{};
    }
    // valijson reports a chain from the root down; the deepest context names the real culprit.
    valijson::ValidationResults::Error error;
    std::vector<std::string> best_context;
    std::string best_message = "does not match the schema";
    while (results.popError(error)) {
        if (error.context.size() >= best_context.size()) {
            best_context = error.context;
            best_message = error.description;
        }
    }
    std::string field = pointer_from_context(best_context);
    std::string where = field.empty() ? "document" : field;
    return Error::invalid_field(field, where + ": " + best_message);
}

}  // namespace sonae::core
