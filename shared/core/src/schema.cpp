#include <fstream>
#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <sonae/core/schema.hpp>

namespace sonae::core {

struct SchemaValidator::Impl {
    valijson::Schema schema;
};

SchemaValidator::SchemaValidator(const nlohmann::json& schema) : impl_(std::make_unique<Impl>()) {
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

SchemaValidator SchemaValidator::from_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open schema " + path);
    }
    return SchemaValidator(nlohmann::json::parse(in));
}

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
        // RFC 6901 escaping.
        std::string escaped;
        for (char c : name) {
            if (c == '~') {
                escaped += "~0";
            } else if (c == '/') {
                escaped += "~1";
            } else {
                escaped += c;
            }
        }
        out += "/" + escaped;
    }
    return out;
}

Result<Ok> SchemaValidator::validate(const nlohmann::json& document) const {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    if (validator.validate(impl_->schema, adapter, &results)) {
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
