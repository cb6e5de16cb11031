// Mustache templates (kainjow) rendered over JSON views of an incident. Output is chat text,
// not HTML, so nothing is HTML-escaped.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace sonae::core {

// A view converted once for the renderer, for several templates (a notification renders four).
// Parsed templates are cached per thread, so a playbook's templates are parsed once.
class TemplateView {
  public:
    explicit TemplateView(const nlohmann::json& view);
    ~TemplateView();
    TemplateView(TemplateView&&) noexcept;
    TemplateView& operator=(TemplateView&&) noexcept;

    // A template error renders the error text instead of throwing, so a bad template never stops
    // an incident (lint reports it).
    std::string render(const std::string& tmpl) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Renders `tmpl` over `view` (a TemplateView for one template).
std::string render_template(const std::string& tmpl, const nlohmann::json& view);
// Empty when the template is valid, else the parser's message.
std::string template_error(const std::string& tmpl);

}  // namespace sonae::core
