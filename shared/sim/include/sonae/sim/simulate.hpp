// Tabletop exercises in virtual time (PRODUCT §11): a scenario's injects and scripted player
// commands drive the same engine as production, with a virtual clock. Players not scripted are
// modelled as completing each human step after its planned duration, so a playbook can be
// checked against its RTOs in milliseconds. Same inputs → byte-identical report.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/command.hpp>
#include <sonae/core/engine.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/schema.hpp>
#include <sonae/core/yaml.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/sim/report.hpp>

namespace sonae::sim {

struct Inject {
    core::Duration at = 0;
    std::optional<ingest::Format> format;  // none: canonical event
    std::string source = "scenario";
    nlohmann::json event;  // payload in `format`
    std::string message;   // narrative inject (press call, phone call ...)
    std::vector<std::string> to;
    std::string tenant;  // the municipality whose monitoring raises the event (none: the event's)
};

struct PlayerAction {
    core::Duration at = 0;
    std::string as = "player";
    core::Permission permission = core::Permission::kCommander;
    std::string command;
    int incident = 0;    // 1-based index of the incident in opening order; 0 = the latest
    std::string tenant;  // when set (and no index): the latest incident of this tenant
};

struct Expectation {
    enum class Kind { kStepDone, kRtoMet, kNotifiedRole, kEscalated, kResolved };
    std::string id;
    Kind kind = Kind::kStepDone;
    std::string subject;
    std::optional<core::Duration> by;
    double score = 1;
    std::string tenant;  // when set: only this tenant's incidents count
};

struct Scenario {
    std::string id;
    std::string title;
    std::string description;
    std::string file;
    core::TimePoint start = 0;
    core::Duration duration = 72 * core::kHour;
    bool auto_players = true;
    std::map<std::string, std::string> decisions;
    std::map<std::string, core::Duration> durations;
    std::vector<Inject> injects;
    std::vector<PlayerAction> players;
    std::vector<Expectation> expect;
};

// "45m", "1h30m" or a facilitator's "D+1 H+3 M+45".
std::optional<core::Duration> parse_offset(const std::string& text);

// A scenario document already read from YAML (shared/loader reads files), checked against
// scenario.schema.json. Errors read "file:line: message".
core::Result<Scenario> parse_scenario(const core::LocatedJson& doc, const std::string& path,
                                      const core::SchemaValidator& schema);

struct Options {
    std::map<std::string, core::Duration> what_if;  // step id -> how long players take
    Lang lang = Lang::kJa;                          // of the report's findings
    // Stop once every service clock of every incident has recovered and no inject is left: what
    // follows cannot change a recovery (RTO risk runs; a report wants the whole drill).
    bool until_recovered = false;
};

// What a simulated drill leaves: the incidents in opening order and the drill's log.
struct Drill {
    std::vector<Record> records;
    DrillLog log;
};

// Runs the scenario to its end (or until nothing is left to happen).
core::Result<Drill> run_drill(const Scenario& scenario, const core::Engine& engine,
                              const Options& options = {});

// Many runs that differ only in the durations of `varied` steps (RTO risk): the part of the drill
// before any of those steps starts is the same in all of them, so it is simulated once and each
// run continues a copy of it. run() gives what run_drill gives for the same options; it may be
// called from several threads at once.
class Fork {
  public:
    Fork(const Scenario& scenario, const core::Engine& engine, const Options& base,
         const std::set<std::string>& varied);
    ~Fork();
    Fork(const Fork&) = delete;
    Fork& operator=(const Fork&) = delete;

    // `options` must equal `base` but for the varied steps' what-ifs.
    core::Result<Drill> run(const Options& options) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// run_drill, then build_report: the report.json of the drill.
core::Result<nlohmann::json> simulate(const Scenario& scenario, const core::Engine& engine,
                                      const Options& options = {});

}  // namespace sonae::sim
