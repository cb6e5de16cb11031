// Helpers the adapters share: defensive JSON access (no shape may crash an adapter), text
// clamping, the severity and category vocabularies, and the last pass that fits events to the
// schema.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/event.hpp>
#include <sonae/ingest/ingest.hpp>

namespace sonae::ingest::detail {

using nlohmann::json;

// Schema limits (schemas/event.schema.json) and our own caps on what we copy out of payloads.
constexpr std::size_t kMaxTitle = 1024;
constexpr std::size_t kMaxDedupKey = 512;
constexpr std::size_t kMaxTenant = 64;
constexpr std::size_t kMaxSource = 128;
constexpr std::size_t kMaxId = 128;
constexpr std::size_t kMaxAssets = 256;
constexpr std::size_t kMaxAssetField = 255;
constexpr std::size_t kMaxIp = 64;
constexpr std::size_t kMaxLabels = 128;
constexpr std::size_t kMaxLabelKey = 128;
constexpr std::size_t kMaxLabelValue = 1024;
// Alerts per request for the batching formats (Alertmanager, Grafana, Elastic).
constexpr std::size_t kMaxEventsPerRequest = 10000;
// Bytes of group-level payload copied into the raw of all events of one request together.
constexpr std::size_t kMaxSharedRawBytes = std::size_t{16} * 1024 * 1024;

// --- JSON access -------------------------------------------------------------------------------
// The member `key` when `j` is an object that has it, else nullptr.
const json* member(const json& j, std::string_view key);
// member() applied along a path of plain keys.
const json* member_path(const json& j, std::initializer_list<std::string_view> path);
const json* element(const json& j, std::size_t index);
// A string member, else "".
std::string str(const json* v);
// Strings as they are, numbers and booleans rendered, arrays of those joined with ",".
std::string text(const json* v);
// The first non-empty text() of an array, or text() of a scalar.
std::string first_text(const json* v);
// A number or a numeric string.
std::optional<double> number(const json* v);
// RFC 3339 strings, or Unix seconds (milliseconds when the value is too large for seconds),
// between 1970 and the end of 9999: what format_timestamp renders as a schema-valid date-time.
std::optional<core::TimePoint> timestamp(const json* v);
std::optional<core::TimePoint> parse_time(std::string_view text);
std::optional<core::TimePoint> epoch_to_time(double value);

// RFC 6901 pointers.
std::string pointer(std::string_view base, std::string_view key);
std::string pointer(std::string_view base, std::size_t index);

// --- Text --------------------------------------------------------------------------------------
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
bool valid_utf8(std::string_view s);
// Cuts after `max_code_points` code points (the schema counts code points, not bytes).
std::string clamp_utf8(std::string_view s, std::size_t max_code_points);
bool contains(std::string_view haystack, std::string_view needle);
std::size_t code_points(std::string_view s);
// %XX decoding (and '+' as space for form/query encoding); malformed escapes stay literal.
std::string percent_decode(std::string_view s, bool plus_as_space);

// --- Vocabularies ------------------------------------------------------------------------------
// critical/high/medium/low/info and the usual synonyms (error, warning, p1..p5, ...).
std::optional<core::Severity> severity_from_name(std::string_view name);
// A canonical category name, tolerant of case, '-' and ' ' (e.g. "Data Leak" -> data_leak).
std::optional<core::Category> category_from_name(std::string_view name);
// "3A".."1" in any case, or the integers 1 and 2.
std::optional<core::Classification> classification_from(const json* v);
// true, "true", "yes", "1", "on".
bool truthy(const json* v);
// The category of an alert from what its SIEM says (docs/ingest.md, "Category rules"): MITRE
// ATT&CK technique ids found in `text` decide first (the most specific id wins: T1550.001 before
// T1550), then keyword rules over the text (rule names, groups, tactics, alert names); kOther
// when nothing matches.
core::Category infer_category(std::string_view text);
// ATT&CK technique ids (T1003, T1021.002) in free text, upper-cased, without repeats, in order.
std::vector<std::string> technique_ids(std::string_view text);
// The format-independent ATT&CK labels playbooks match on: `mitre.technique` (the ids found in
// `techniques`, comma-joined) and `mitre.tactic` (the tactic names of `tactics`, split on commas
// and line breaks; Falco-style tags `mitre_lateral_movement` become `lateral movement`).
void add_mitre_labels(core::Event& e, std::string_view techniques, std::string_view tactics);

// --- Assets ------------------------------------------------------------------------------------
bool looks_like_ip(std::string_view s);
// RFC 1918, loopback, link-local, CGNAT, IPv6 ULA/link-local/loopback.
bool is_private_ip(std::string_view s);
// "host:9100" -> "host", "[::1]:9100" -> "::1"; leaves bare IPv6 addresses alone.
std::string strip_port(std::string_view s);
// Puts `name` into the host or ip slot of `asset` depending on what it looks like.
void set_host_or_ip(core::Asset& asset, std::string_view name);
void add_asset(core::Event& e, core::Asset asset);

// --- Raw payloads of batches
// ---------------------------------------------------------------------- Each event of a batch
// keeps the payload as if its item had been sent alone: the body with the array `key` holding just
// that item. When the rest of the body is so large that copying it into every event would blow up
// memory, only its scalar members are kept.
class SplitRaw {
  public:
    SplitRaw(const json& body, std::string_view key, std::size_t items);
    json for_item(const json& item) const;

  private:
    json rest_;
    std::string key_;
};

// --- Labels and finishing ------------------------------------------------------------------------
// Adds a label unless the value is empty or the 128-label cap is reached; keeps the first value.
void add_label(core::Event& e, std::string_view key, std::string_view value);
void add_label(core::Event& e, std::string_view key, const json* value);
// A dedup key within the schema's 512 characters: longer keys become "sha256:<hex>".
std::string fit_dedup_key(std::string_view key);
// Fills source, tenant and received_at from the context and clamps every field to the schema.
void finish(core::Event& e, const AdaptContext& ctx, std::string_view fallback_title);

}  // namespace sonae::ingest::detail
