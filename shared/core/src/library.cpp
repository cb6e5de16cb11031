#include <sonae/core/library.hpp>

namespace sonae::core {

Result<std::unique_ptr<Library>> build_library(std::optional<Catalog> catalog,
                                               std::vector<Playbook> playbooks, Messages messages,
                                               const std::string& where) {
    auto lib = std::make_unique<Library>();
    const bool has_catalog = catalog.has_value();
    if (catalog)
        lib->catalog = std::move(*catalog);
    lib->tenant = lib->catalog.tenant;
    lib->messages = std::move(messages);
    const LintContext ctx{has_catalog ? &lib->catalog : nullptr, nullptr};
    for (const auto& pb : playbooks) {
        auto f = lint_playbook(pb, ctx);
        lib->findings.insert(lib->findings.end(), f.begin(), f.end());
    }
    const std::string default_id = lib->catalog.default_playbook;
    lib->playbooks = PlaybookSet(std::move(playbooks), default_id);
    if (!default_id.empty() && lib->playbooks.find(default_id) == nullptr) {
        return Error{
            ErrorCode::kInvalidField,
            lib->catalog.file + ": default_playbook '" + default_id + "' is not in " + where, ""};
    }
    lib->engine = std::make_unique<Engine>(lib->playbooks, lib->catalog, lib->messages);
    return lib;
}

}  // namespace sonae::core
