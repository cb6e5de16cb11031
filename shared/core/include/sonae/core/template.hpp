// Mustache templates (kainjow) rendered over JSON views of an incident. Output is chat text,
// not HTML, so nothing is HTML-escaped.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sonae::core {

// Renders `tmpl` over `view`. A template error renders the error text instead of throwing, so a
// bad template never stops an incident (lint reports it).
std::string render_template(const std::string& tmpl, const nlohmann::json& view);
// Empty when the template is valid, else the parser's message.
std::string template_error(const std::string& tmpl);

}  // namespace sonae::core
