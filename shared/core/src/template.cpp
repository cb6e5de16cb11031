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

std::string render_template(const std::string& tmpl, const nlohmann::json& view) {
    mst::mustache m{tmpl};
    if (!m.is_valid()) {
        return "[template error: " + m.error_message() + "]";
    }
    m.set_custom_escape([](const std::string& s) { return s; });
    return m.render(to_data(view));
}

std::string template_error(const std::string& tmpl) {
    mst::mustache m{tmpl};
    return m.is_valid() ? std::string{} : m.error_message();
}

}  // namespace sonae::core
