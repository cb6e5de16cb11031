// Ingest adapters (PRODUCT §3, §4): turn what a SIEM posts into canonical events, authenticate
// the request over its raw bytes, and limit its rate. Pure code: no sockets, no clock (callers
// pass `now`), so the gateway, the simulator and the fuzzers run the same functions.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/event.hpp>
#include <sonae/core/result.hpp>
#include <sonae/core/time.hpp>

namespace sonae::ingest {

enum class Format {
    kGeneric,
    kCloudEvents,
    kAlertmanager,
    kPagerDuty,
    kWazuh,
    kElastic,
    kSplunk,
    kGrafana
};
std::optional<Format> parse_format(std::string_view name);
std::string_view to_string(Format f);

// Request headers with case-insensitive names (stored lower-case).
class HeaderMap {
  public:
    void set(std::string_view name, std::string value);
    std::optional<std::string_view> get(std::string_view name) const;
    const std::map<std::string, std::string>& all() const { return headers_; }

  private:
    std::map<std::string, std::string> headers_;
};

struct Request {
    const HeaderMap& headers;
    std::string_view body;   // raw bytes as received
    std::string_view query;  // raw query string without '?', e.g. "token=abc&x=1"
};

// Decodes one query parameter ('+' and %XX), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

struct ParseLimits {
    std::size_t max_depth = 64;
};
// Parses JSON refusing invalid UTF-8, trailing garbage and nesting deeper than max_depth,
// without recursion. Errors are kInvalidJson with a message that says where.
core::Result<nlohmann::json> parse_json(std::string_view body, const ParseLimits& limits = {});

// The top-level "routing_key" string of a JSON body (the last one if repeated, as parse_json
// keeps), or nullopt when the body is not valid JSON or has none. Routing-key authentication
// runs before parsing, so this streams the body without building a document.
std::optional<std::string> routing_key_of(std::string_view body, const ParseLimits& limits = {});

struct AdaptContext {
    std::string source;  // configured source name
    std::string tenant = "default";
    core::TimePoint received_at = 0;
};

// Maps a request body of the given format into one or more canonical events (an Alertmanager
// group carries several alerts). `body` is the parsed JSON, except for CloudEvents binary mode
// where the attributes are in ce-* headers and `body` is the data. Events come back without
// `id` (the gateway assigns it); `raw` holds the original payload. Errors are kInvalidField with
// the JSON pointer of the offending field.
core::Result<std::vector<core::Event>> adapt(Format format, const nlohmann::json& body,
                                             const HeaderMap& headers, const AdaptContext& ctx);

// --- Authentication -------------------------------------------------------------------------
enum class AuthScheme { kBearer, kBasic, kHeader, kQueryToken, kHmacSha256, kRoutingKey, kNone };
std::optional<AuthScheme> parse_auth_scheme(std::string_view name);

struct AuthConfig {
    AuthScheme scheme = AuthScheme::kBearer;
    std::string secret;    // token, password, header secret, HMAC key or routing key
    std::string username;  // basic
    std::string header;    // header / hmac-sha256: header carrying the secret or signature
    std::string query_param = "token";  // query-token
    std::string encoding = "hex";       // hmac-sha256: hex | base64
    std::string signature_prefix;       // hmac-sha256: e.g. "sha256=" (stripped before compare)
    std::string timestamp_header;       // hmac-sha256: when set, signed content is "<ts>:<body>"
    core::Duration window = 5 * core::kMinute;  // accepted clock skew for timestamps
    bool insecure = false;                      // none: only accepted when true
};

// Checks the request against the source's scheme in constant time over the raw body.
// Returns kUnauthorized with a message that never contains the secret.
core::Result<core::Ok> authenticate(const AuthConfig& auth, const Request& request,
                                    core::TimePoint now);

// --- Rate limiting ----------------------------------------------------------------------------
// Token bucket per source: `rate` requests per second with bursts of `burst`. Thread-safe.
// A rate of 0 (or less) turns limiting off; a burst below 1 counts as 1.
class RateLimiter {
  public:
    RateLimiter(double rate_per_s, double burst);
    // True when allowed; otherwise `retry_after_s` says when one token will be available.
    bool try_acquire(core::TimePoint now, std::int64_t* retry_after_s);

  private:
    std::mutex mu_;
    double rate_;
    double burst_;
    double tokens_;
    core::TimePoint last_ = 0;
    bool started_ = false;
};

}  // namespace sonae::ingest
