#include <filesystem>

#include <sonae/core/library.hpp>

namespace sonae::core {

Result<std::unique_ptr<Library>> load_library(const std::string& dir,
                                              const std::string& catalog_path,
                                              const std::string& schema_dir) {
    auto lib = std::make_unique<Library>();
    const std::string cat = catalog_path.empty() ? dir + "/catalog.yaml" : catalog_path;
    if (std::filesystem::exists(cat)) {
        auto c = load_catalog(cat, schema_dir);
        if (!c)
            return c.error();
        lib->catalog = std::move(c.value());
    }
    lib->tenant = lib->catalog.tenant;
    auto pbs = load_playbook_dir(dir, schema_dir);
    if (!pbs)
        return pbs.error();
    const LintContext ctx{std::filesystem::exists(cat) ? &lib->catalog : nullptr, nullptr};
    for (const auto& pb : *pbs) {
        auto f = lint_playbook(pb, ctx);
        lib->findings.insert(lib->findings.end(), f.begin(), f.end());
    }
    std::string default_id = lib->catalog.default_playbook;
    lib->playbooks = PlaybookSet(std::move(pbs.value()), default_id);
    if (!default_id.empty() && lib->playbooks.find(default_id) == nullptr) {
        return Error{ErrorCode::kInvalidField,
                     cat + ": default_playbook '" + default_id + "' is not in " + dir, ""};
    }
    lib->engine = std::make_unique<Engine>(lib->playbooks, lib->catalog);
    return lib;
}

}  // namespace sonae::core
