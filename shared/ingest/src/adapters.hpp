// One function per ingest format; adapt() dispatches to them. Mappings are documented in
// docs/ingest.md, which must change together with these files.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/ingest/ingest.hpp>

namespace sonae::ingest::detail {

using Events = core::Result<std::vector<core::Event>>;

Events adapt_generic(const nlohmann::json& body, const AdaptContext& ctx);
Events adapt_cloudevents(const nlohmann::json& body, const HeaderMap& headers,
                         const AdaptContext& ctx);
// Grafana's webhook is Alertmanager's plus a few fields, so one function reads both.
Events adapt_alertmanager(const nlohmann::json& body, const AdaptContext& ctx, bool grafana);
Events adapt_pagerduty(const nlohmann::json& body, const AdaptContext& ctx);
Events adapt_wazuh(const nlohmann::json& body, const AdaptContext& ctx);
Events adapt_elastic(const nlohmann::json& body, const AdaptContext& ctx);
Events adapt_splunk(const nlohmann::json& body, const AdaptContext& ctx);

// Reads the canonical-looking fields (title, action, severity, category, classification,
// dedup_key, occurred_at, assets, labels, exercise) of a CloudEvents `data` object; `base` is
// its JSON pointer for error messages. Strict about enum values, lenient about shapes.
core::Result<core::Ok> read_canonical_fields(const nlohmann::json& data, std::string_view base,
                                             core::Event& e, bool& has_category);

}  // namespace sonae::ingest::detail
