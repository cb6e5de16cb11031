// A tenant's playbook library: its catalog, its playbooks and the engine over them, loaded from a
// directory (PRODUCT §6, §14). The engine keeps references, so a Library never moves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sonae/core/catalog.hpp>
#include <sonae/core/engine.hpp>
#include <sonae/core/lint.hpp>
#include <sonae/core/playbook.hpp>

namespace sonae::core {

struct Library {
    std::string tenant;
    Catalog catalog;
    PlaybookSet playbooks;
    std::unique_ptr<Engine> engine;
    std::vector<Finding> findings;  // lint findings (the library still loads)

    Library() = default;
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

// Loads `<dir>/*.yaml` playbooks and the catalog (`catalog_path`, or `<dir>/catalog.yaml`).
// Schema and parse errors refuse the library; semantic findings are kept in `findings`.
Result<std::unique_ptr<Library>> load_library(const std::string& dir,
                                              const std::string& catalog_path,
                                              const std::string& schema_dir);

}  // namespace sonae::core
