// The canonical event (PRODUCT §4): what every ingest adapter produces and the orchestrator reads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/result.hpp>
#include <sonae/core/time.hpp>

namespace sonae::core {

enum class Action { kTrigger, kAcknowledge, kResolve };
// Ordered: a higher value is more severe.
enum class Severity { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
enum class Category {
    kRansomware,
    kMalware,
    kPhishing,
    kIntrusion,
    kDataLeak,
    kAccountCompromise,
    kDdos,
    kVendorIncident,
    kDeviceLoss,
    kOutage,
    kOther,
};
// The guideline's confidentiality levels, ordered from least to most sensitive.
enum class Classification { k1 = 0, k2 = 1, k3C = 2, k3B = 3, k3A = 4 };

std::string_view to_string(Action a);
std::string_view to_string(Severity s);
std::string_view to_string(Category c);
std::string_view to_string(Classification c);
std::optional<Action> parse_action(std::string_view s);
std::optional<Severity> parse_severity(std::string_view s);
std::optional<Category> parse_category(std::string_view s);
std::optional<Classification> parse_classification(std::string_view s);

struct Asset {
    std::string host;
    std::string ip;
    std::string user;
    std::string system;
    bool operator==(const Asset&) const = default;
};

struct Event {
    std::string id;  // UUID
    std::string tenant = "default";
    std::string source;
    TimePoint received_at = 0;
    std::optional<TimePoint> occurred_at;
    Action action = Action::kTrigger;
    std::string dedup_key;
    std::string title;
    Category category = Category::kOther;
    Severity severity = Severity::kMedium;
    std::optional<Classification> classification;
    std::vector<Asset> assets;
    std::map<std::string, std::string> labels;
    nlohmann::json raw;  // the original payload, kept verbatim
    bool exercise = false;
};

nlohmann::json to_json(const Event& e);
// Reads a canonical event that already passed schema validation; `received_at` and `source`
// are filled from the arguments when the payload has none.
Result<Event> event_from_json(const nlohmann::json& j);

}  // namespace sonae::core
