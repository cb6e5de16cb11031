#include <memory>
#include <unordered_map>

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

// Parsed templates of this thread, by source text. Bounded: a playbook library has a few
// hundred templates; anything beyond that (generated text) is parsed anew.
mst::mustache& parsed(const std::string& tmpl) {
    thread_local std::unordered_map<std::string, std::unique_ptr<mst::mustache>> cache;
    auto it = cache.find(tmpl);
    if (it == cache.end()) {
        if (cache.size() >= 1024)
            cache.clear();
        auto m = std::make_unique<mst::mustache>(tmpl);
        m->set_custom_escape([](const std::string& s) { return s; });
        it = cache.emplace(tmpl, std::move(m)).first;
    }
    return *it->second;
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

std::string TemplateView::render(const std::string& tmpl) const {
    mst::mustache& m = parsed(tmpl);
    if (!m.is_valid()) {
        return "[template error: " + m.error_message() + "]";
    }
    return m.render(impl_->data);
}

std::string render_template(const std::string& tmpl, const nlohmann::json& view) {
    return TemplateView(view).render(tmpl);
}

std::string template_error(const std::string& tmpl) {
    mst::mustache m{tmpl};
    return m.is_valid() ? std::string{} : m.error_message();
}

}  // namespace sonae::core
