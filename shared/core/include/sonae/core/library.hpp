// A tenant's playbook library: its catalog, its playbooks, its message texts and the engine over
// them (PRODUCT §6, §14). Built from parsed documents; reading them from disk is the loader's
// job (shared/loader). The engine keeps references, so a Library never moves.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sonae/core/catalog.hpp>
#include <sonae/core/engine.hpp>
#include <sonae/core/lint.hpp>
#include <sonae/core/messages.hpp>
#include <sonae/core/playbook.hpp>

namespace sonae::core {

struct Library {
    std::string tenant;
    Catalog catalog;
    PlaybookSet playbooks;
    Messages messages = Messages::defaults();
    // The tenant's own report templates (name -> text), over the shipped ones (report/report.hpp).
    std::map<std::string, std::string> report_templates;
    std::unique_ptr<Engine> engine;
    std::vector<Finding> findings;  // lint findings (the library still loads)

    Library() = default;
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

// Tenant -> library. Read-only once loaded, shared by all threads.
using Libraries = std::map<std::string, std::unique_ptr<Library>>;

// Lints the playbooks (against the catalog when there is one), orders them and builds the engine.
// Fails when the catalog's default playbook is not among them.
Result<std::unique_ptr<Library>> build_library(std::optional<Catalog> catalog,
                                               std::vector<Playbook> playbooks, Messages messages,
                                               const std::string& where);

}  // namespace sonae::core
