// JSON Schema validation (valijson) reporting the most specific failing field as a JSON pointer.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <sonae/core/result.hpp>

namespace sonae::core {

class SchemaValidator {
  public:
    // Throws std::runtime_error when the schema itself is invalid.
    explicit SchemaValidator(const nlohmann::json& schema);
    ~SchemaValidator();
    SchemaValidator(SchemaValidator&&) noexcept;
    SchemaValidator& operator=(SchemaValidator&&) noexcept;

    // Returns an kInvalidField error naming the deepest failing JSON pointer.
    Result<Ok> validate(const nlohmann::json& document) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "/a/b" style pointer from valijson context ["<root>", "[a]", "[b]"].
std::string pointer_from_context(const std::vector<std::string>& context);

}  // namespace sonae::core
