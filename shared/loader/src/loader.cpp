#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sonae/core/template.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/report/report.hpp>

namespace sonae::loader {
namespace {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;

constexpr const char* kSchemaNames[] = {"event",           "playbook",         "catalog",
                                        "scenario",        "messages",         "config/sources",
                                        "config/channels", "config/responders"};

bool is_playbook_file(const fs::directory_entry& entry) {
    const auto& p = entry.path();
    const std::string name = p.filename().string();
    if (!entry.is_regular_file() || name.front() == '.' || name == "catalog.yaml" ||
        name == "messages.yaml")
        return false;
    return p.extension() == ".yaml" || p.extension() == ".yml";
}

}  // namespace

core::Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error{ErrorCode::kNotFound, path + ": cannot open file", ""};
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        return Error{ErrorCode::kInternal, path + ": read error", ""};
    return ss.str();
}

core::Result<core::LocatedJson> load_yaml_file(const std::string& path) {
    auto text = read_file(path);
    if (!text)
        return Error{text.error().code, path + ":1: cannot open file", ""};
    return core::parse_yaml(*text, path);
}

core::Result<core::SchemaValidator> load_schema(const std::string& path) {
    auto text = read_file(path);
    if (!text)
        return text.error();
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded())
        return Error{ErrorCode::kInvalidJson, path + ": not valid JSON", ""};
    try {
        return core::SchemaValidator(j);
    } catch (const std::exception& e) {
        return Error{ErrorCode::kInvalidField, path + ": " + e.what(), ""};
    }
}

core::Result<Schemas> Schemas::load(const std::string& dir) {
    Schemas s;
    s.dir_ = dir;
    for (const char* name : kSchemaNames) {
        auto v = load_schema(dir + "/" + name + ".schema.json");
        if (!v)
            return v.error();
        s.schemas_[name] = std::make_shared<const core::SchemaValidator>(std::move(v.value()));
    }
    return s;
}

const core::SchemaValidator& Schemas::get(const std::string& name) const {
    return *schemas_.at(name);
}

core::Result<core::Catalog> load_catalog(const std::string& path, const Schemas& schemas) {
    auto doc = load_yaml_file(path);
    if (!doc)
        return doc.error();
    return core::parse_catalog(*doc, path, schemas.catalog());
}

core::Result<core::Playbook> load_playbook(const std::string& path, const Schemas& schemas) {
    auto doc = load_yaml_file(path);
    if (!doc)
        return doc.error();
    return core::parse_playbook(*doc, path, schemas.playbook());
}

std::vector<std::string> playbook_files(const std::string& dir) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (is_playbook_file(entry))
            files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

core::Result<std::vector<core::Playbook>> load_playbook_dir(const std::string& dir,
                                                            const Schemas& schemas) {
    if (!fs::is_directory(dir))
        return Error{ErrorCode::kNotFound, dir + ": not a directory", ""};
    const std::vector<std::string> files = playbook_files(dir);
    std::vector<core::Playbook> out;
    std::string errors;
    for (const auto& f : files) {
        auto pb = load_playbook(f, schemas);
        if (!pb) {
            errors += (errors.empty() ? "" : "\n") + pb.error().message;
            continue;
        }
        out.push_back(std::move(pb.value()));
    }
    if (!errors.empty())
        return Error{ErrorCode::kInvalidField, errors, ""};
    return out;
}

core::Result<core::Messages> load_messages(const std::string& path, const Schemas& schemas) {
    auto doc = load_yaml_file(path);
    if (!doc)
        return doc.error();
    auto fail = [&](const std::string& pointer, const std::string& message) {
        return Error{ErrorCode::kInvalidField,
                     path + ":" + std::to_string(doc->line_of(pointer)) + ": " + message, pointer};
    };
    if (auto ok = schemas.messages().validate(doc->value); !ok)
        return fail(ok.error().field, ok.error().message);
    const nlohmann::json& texts = doc->value.at("messages");
    auto m = core::Messages::with_overrides(texts);
    if (!m)
        return fail("/messages" + m.error().field, m.error().message);
    for (const auto& [key, text] : texts.items()) {
        if (auto bad = core::template_error(text.get<std::string>()); !bad.empty())
            return fail("/messages/" + key, "invalid template: " + bad);
    }
    return m;
}

core::Result<std::unique_ptr<core::Library>> load_library(const std::string& dir,
                                                          const std::string& catalog_path,
                                                          const Schemas& schemas) {
    const std::string cat = catalog_path.empty() ? dir + "/catalog.yaml" : catalog_path;
    std::optional<core::Catalog> catalog;
    if (fs::exists(cat)) {
        auto c = load_catalog(cat, schemas);
        if (!c)
            return c.error();
        catalog = std::move(c.value());
    }
    core::Messages messages = core::Messages::defaults();
    if (const std::string path = dir + "/messages.yaml"; fs::exists(path)) {
        auto m = load_messages(path, schemas);
        if (!m)
            return m.error();
        messages = std::move(m.value());
    }
    auto templates = load_report_templates(dir);
    if (!templates)
        return templates.error();
    auto pbs = load_playbook_dir(dir, schemas);
    if (!pbs)
        return pbs.error();
    auto lib =
        core::build_library(std::move(catalog), std::move(pbs.value()), std::move(messages), dir);
    if (lib)
        lib.value()->report_templates = std::move(templates.value());
    return lib;
}

core::Result<std::map<std::string, std::string>> load_report_templates(const std::string& dir) {
    std::map<std::string, std::string> out;
    const fs::path reports = fs::path(dir) / "reports";
    if (!fs::is_directory(reports))
        return out;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(reports)) {
        if (f.is_regular_file())
            files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        auto text = read_file(path.string());
        if (!text)
            return text.error();
        const std::string name = path.filename().string();
        if (const std::string why = report::check_template(name, text.value()); !why.empty())
            return core::Error{core::ErrorCode::kInvalidField, path.string() + ": " + why, ""};
        out[name] = std::move(text.value());
    }
    return out;
}

core::Result<core::Libraries> load_libraries(const std::string& playbook_dir,
                                             const std::string& catalog_override,
                                             const Schemas& schemas) {
    core::Libraries out;
    auto lib =
        load_library(playbook_dir, fs::exists(catalog_override) ? catalog_override : "", schemas);
    if (!lib)
        return lib.error();
    out["default"] = std::move(lib.value());
    const fs::path tenants = fs::path(playbook_dir) / "tenants";
    if (fs::is_directory(tenants)) {
        for (const auto& d : fs::directory_iterator(tenants)) {
            if (!d.is_directory())
                continue;
            auto t = load_library(d.path().string(), {}, schemas);
            if (!t)
                return t.error();
            out[d.path().filename().string()] = std::move(t.value());
        }
    }
    return out;
}

core::Result<sim::Scenario> load_scenario(const std::string& path, const Schemas& schemas) {
    auto doc = load_yaml_file(path);
    if (!doc)
        return doc.error();
    return sim::parse_scenario(*doc, path, schemas.scenario());
}

}  // namespace sonae::loader
