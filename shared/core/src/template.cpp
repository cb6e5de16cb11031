#include <kainjow/mustache.hpp>

#include <sonae/core/template.hpp>

namespace sonae::core {
namespace {

namespace mst = kainjow::mustache;

mst::data to_data(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            mst::data d{mst::data::type::object};
            for (const auto& [k, v] : j.items())
                d.set(k, to_data(v));
            return d;
        }
        case nlohmann::json::value_t::array: {
            mst::data d{mst::data::type::list};
            for (const auto& v : j)
                d.push_back(to_data(v));
            return d;
        }
        case nlohmann::json::value_t::string:
            return mst::data{j.get<std::string>()};
        case nlohmann::json::value_t::boolean:
            return j.get<bool>() ? mst::data{mst::data::type::bool_true}
                                 : mst::data{mst::data::type::bool_false};
        case nlohmann::json::value_t::null:
            return mst::data{mst::data::type::bool_false};
        default:
            return mst::data{j.dump()};
    }
}

}  // namespace

struct TemplateView::Impl {
    mst::data data;
};

TemplateView::TemplateView(const nlohmann::json& view)
    : impl_(std::make_unique<Impl>(Impl{to_data(view)})) {}
TemplateView::~TemplateView() = default;
TemplateView::TemplateView(TemplateView&&) noexcept = default;
TemplateView& TemplateView::operator=(TemplateView&&) noexcept = default;

struct Template::Impl {
    // kainjow's render() is not const, though it writes only on partial and lambda errors.
    mutable mst::mustache parsed;
};

Template::Template(const std::string& text)
    : impl_(std::make_unique<Impl>(Impl{mst::mustache{text}})) {
    impl_->parsed.set_custom_escape([](const std::string& s) { return s; });
}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

bool Template::valid() const {
    return impl_->parsed.is_valid();
}

std::string Template::error() const {
    return impl_->parsed.is_valid() ? std::string{} : impl_->parsed.error_message();
}

std::string Template::render(const TemplateView& view) const {
    if (!valid())
        return "[template error: " + error() + "]";
    return impl_->parsed.render(view.impl_->data);
}

void TemplateSet::add(const std::string& text) {
    if (compiled_.count(text) == 0)
        compiled_.emplace(text, Template(text));
}

std::string TemplateSet::render(const std::string& text, const TemplateView& view) const {
    if (auto it = compiled_.find(text); it != compiled_.end())
        return it->second.render(view);
    return Template(text).render(view);
}

std::string render_template(const std::string& tmpl, const nlohmann::json& view) {
    return Template(tmpl).render(TemplateView(view));
}

std::string render_template(const std::string& tmpl, const nlohmann::json& view,
                            const std::function<std::string(const std::string&)>& escape) {
    mst::mustache parsed{tmpl};
    if (!parsed.is_valid())
        return "[template error: " + parsed.error_message() + "]";
    parsed.set_custom_escape(escape);
    return parsed.render(to_data(view));
}

std::string template_error(const std::string& tmpl) {
    return Template(tmpl).error();
}

}  // namespace sonae::core
