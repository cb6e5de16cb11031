// Mustache templates (kainjow) rendered over JSON views of an incident. Output is chat text,
// not HTML, so nothing is HTML-escaped. Templates are compiled once by their owner (the engine
// compiles every text of its playbooks and messages when it is built); nothing is cached behind
// the caller's back.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace sonae::core {

// A view converted once for the renderer, for several templates (a notification renders four).
class TemplateView {
  public:
    explicit TemplateView(const nlohmann::json& view);
    ~TemplateView();
    TemplateView(TemplateView&&) noexcept;
    TemplateView& operator=(TemplateView&&) noexcept;

  private:
    friend class Template;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One parsed template. Rendering only reads it, so one Template serves many threads (views hold
// plain data: no partials, no lambdas, the only things that make kainjow write while rendering).
class Template {
  public:
    explicit Template(const std::string& text);
    ~Template();
    Template(Template&&) noexcept;
    Template& operator=(Template&&) noexcept;

    bool valid() const;
    std::string error() const;  // empty when valid
    // A template error renders the error text instead of throwing, so a bad template never stops
    // an incident (lint reports it).
    std::string render(const TemplateView& view) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Templates compiled up front, looked up by their text. Immutable once built.
class TemplateSet {
  public:
    void add(const std::string& text);
    // Renders with the compiled template, or parses `text` for this call when it was never added.
    std::string render(const std::string& text, const TemplateView& view) const;
    std::size_t size() const { return compiled_.size(); }

  private:
    std::unordered_map<std::string, Template> compiled_;
};

// Parses and renders once (tools and tests; the engine renders through its TemplateSet).
std::string render_template(const std::string& tmpl, const nlohmann::json& view);
// The same with `escape` applied to every {{value}} (not to {{{value}}}), e.g. for Markdown.
std::string render_template(const std::string& tmpl, const nlohmann::json& view,
                            const std::function<std::string(const std::string&)>& escape);
// Empty when the template is valid, else the parser's message.
std::string template_error(const std::string& tmpl);

}  // namespace sonae::core
