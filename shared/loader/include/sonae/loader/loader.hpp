// Reading sonae's documents from disk: YAML files, the JSON Schemas, playbooks, catalogs, message
// catalogs, whole tenant libraries and exercise scenarios. The core parses and checks what this
// reads and never touches a file itself. Every error names the file and line.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sonae/core/catalog.hpp>
#include <sonae/core/library.hpp>
#include <sonae/core/messages.hpp>
#include <sonae/core/playbook.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::loader {

// The whole file; the error says "path: reason".
core::Result<std::string> read_file(const std::string& path);
// A YAML file as JSON with lines; the error says "path:line: reason".
core::Result<core::LocatedJson> load_yaml_file(const std::string& path);
// A JSON Schema file.
core::Result<core::SchemaValidator> load_schema(const std::string& path);

// Every schema of schemas/, read once (docs/architecture.md lists them).
class Schemas {
  public:
    static core::Result<Schemas> load(const std::string& dir);

    const core::SchemaValidator& event() const { return get("event"); }
    const core::SchemaValidator& playbook() const { return get("playbook"); }
    const core::SchemaValidator& catalog() const { return get("catalog"); }
    const core::SchemaValidator& scenario() const { return get("scenario"); }
    const core::SchemaValidator& messages() const { return get("messages"); }
    // config/<name>.schema.json: sources, channels, responders.
    const core::SchemaValidator& config(const std::string& name) const {
        return get("config/" + name);
    }
    const std::string& dir() const { return dir_; }

  private:
    const core::SchemaValidator& get(const std::string& name) const;
    std::string dir_;
    std::map<std::string, std::shared_ptr<const core::SchemaValidator>> schemas_;
};

core::Result<core::Catalog> load_catalog(const std::string& path, const Schemas& schemas);
core::Result<core::Playbook> load_playbook(const std::string& path, const Schemas& schemas);
// The playbook files directly in `dir`: *.yaml / *.yml except catalog.yaml and messages.yaml, not
// in subfolders, in name order.
std::vector<std::string> playbook_files(const std::string& dir);
// Every playbook of playbook_files(dir). Collects all errors, one per line of the message.
core::Result<std::vector<core::Playbook>> load_playbook_dir(const std::string& dir,
                                                            const Schemas& schemas);
// messages.yaml: overrides of the message catalog; templates must parse.
core::Result<core::Messages> load_messages(const std::string& path, const Schemas& schemas);

// A library's own report templates: every file of `<dir>/reports/` (none when it does not exist),
// named as a shipped template (report/report.hpp, e.g. first.ja.md) and parsing.
core::Result<std::map<std::string, std::string>> load_report_templates(const std::string& dir);

// One tenant's library from `dir`: its playbooks, `catalog_path` (or `<dir>/catalog.yaml` when
// empty, or none when that does not exist), `<dir>/messages.yaml` and `<dir>/reports/` when
// present.
core::Result<std::unique_ptr<core::Library>> load_library(const std::string& dir,
                                                          const std::string& catalog_path,
                                                          const Schemas& schemas);
// Every tenant: `default` from `playbook_dir` (with `catalog_override` when that file exists),
// and each `playbook_dir/tenants/<name>/` as tenant <name>.
core::Result<core::Libraries> load_libraries(const std::string& playbook_dir,
                                             const std::string& catalog_override,
                                             const Schemas& schemas);

core::Result<sim::Scenario> load_scenario(const std::string& path, const Schemas& schemas);

}  // namespace sonae::loader
