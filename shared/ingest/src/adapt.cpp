// adapt(): the dispatch from a source's configured format to its adapter.
#include <sonae/ingest/ingest.hpp>

#include "adapters.hpp"

namespace sonae::ingest {

core::Result<std::vector<core::Event>> adapt(Format format, const nlohmann::json& body,
                                             const HeaderMap& headers, const AdaptContext& ctx) {
    switch (format) {
        case Format::kGeneric:
            return detail::adapt_generic(body, ctx);
        case Format::kCloudEvents:
            return detail::adapt_cloudevents(body, headers, ctx);
        case Format::kAlertmanager:
            return detail::adapt_alertmanager(body, ctx, false);
        case Format::kPagerDuty:
            return detail::adapt_pagerduty(body, ctx);
        case Format::kWazuh:
            return detail::adapt_wazuh(body, ctx);
        case Format::kElastic:
            return detail::adapt_elastic(body, ctx);
        case Format::kSplunk:
            return detail::adapt_splunk(body, ctx);
        case Format::kGrafana:
            return detail::adapt_alertmanager(body, ctx, true);
    }
    return core::Error{core::ErrorCode::kInternal, "unknown ingest format", ""};
}

}  // namespace sonae::ingest
