// Request authentication per source (PRODUCT §3). Every comparison is constant-time over
// equal-length values: tokens are hashed first so that their length does not leak either.
#include <array>
#include <charconv>
#include <utility>

#include <sonae/crypto/crypto.hpp>
#include <sonae/ingest/ingest.hpp>

#include "util.hpp"

namespace sonae::ingest {
namespace {

using core::Error;
using core::ErrorCode;

Error unauthorized(std::string message) {
    return Error{ErrorCode::kUnauthorized, std::move(message), ""};
}

bool same_secret(std::string_view given, std::string_view expected) {
    return crypto::constant_time_equal(crypto::sha256(given), crypto::sha256(expected));
}

// "<scheme> <credentials>" from the Authorization header, scheme matched case-insensitively.
std::optional<std::string_view> credentials(const Request& request, std::string_view scheme) {
    auto header = request.headers.get("authorization");
    if (!header) {
        return std::nullopt;
    }
    std::string_view v = detail::trim(*header);
    if (v.size() <= scheme.size() || !detail::iequals(v.substr(0, scheme.size()), scheme) ||
        (v[scheme.size()] != ' ' && v[scheme.size()] != '\t')) {
        return std::nullopt;
    }
    return detail::trim(v.substr(scheme.size()));
}

core::Result<core::Ok> check_hmac(const AuthConfig& auth, const Request& request,
                                  core::TimePoint now) {
    const std::string header_name = auth.header.empty() ? "x-signature" : auth.header;
    auto header = request.headers.get(header_name);
    if (!header) {
        return unauthorized("missing signature header " + header_name);
    }
    std::string_view signature = detail::trim(*header);
    if (!auth.signature_prefix.empty()) {
        const std::string_view prefix = auth.signature_prefix;
        if (signature.size() < prefix.size() ||
            !detail::iequals(signature.substr(0, prefix.size()), prefix)) {
            return unauthorized("signature without the expected prefix");
        }
        signature.remove_prefix(prefix.size());
    }
    std::optional<std::string> given =
        auth.encoding == "base64" ? crypto::base64_decode(signature) : crypto::from_hex(signature);
    if (!given) {
        return unauthorized("malformed signature");
    }

    std::string content;
    if (!auth.timestamp_header.empty()) {
        auto ts_header = request.headers.get(auth.timestamp_header);
        if (!ts_header) {
            return unauthorized("missing timestamp header " + auth.timestamp_header);
        }
        const std::string_view ts = detail::trim(*ts_header);
        std::int64_t value = 0;
        auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), value);
        if (ec != std::errc{} || p != ts.data() + ts.size() || value < 0) {
            return unauthorized("malformed timestamp");
        }
        // Unix seconds; values this large can only be milliseconds (seconds would be year 5138).
        constexpr std::int64_t kMaxSeconds = 100'000'000'000;
        if (value < kMaxSeconds) {
            value *= 1000;
        }
        const std::int64_t skew = value > now ? value - now : now - value;
        if (skew > auth.window) {
            return unauthorized("timestamp outside the accepted window");
        }
        content.reserve(ts.size() + 1 + request.body.size());
        content.append(ts).append(":").append(request.body);
    }
    const std::string expected =
        crypto::hmac_sha256(auth.secret, auth.timestamp_header.empty() ? request.body : content);
    // Both are 32 bytes when the signature is well formed; a wrong length fails here without
    // revealing anything about the key.
    if (!crypto::constant_time_equal(*given, expected)) {
        return unauthorized("invalid signature");
    }
    return core::Ok{};
}

constexpr std::array<std::pair<AuthScheme, std::string_view>, 7> kSchemes{{
    {AuthScheme::kBearer, "bearer"},
    {AuthScheme::kBasic, "basic"},
    {AuthScheme::kHeader, "header"},
    {AuthScheme::kQueryToken, "query-token"},
    {AuthScheme::kHmacSha256, "hmac-sha256"},
    {AuthScheme::kRoutingKey, "routing-key"},
    {AuthScheme::kNone, "none"},
}};

}  // namespace

std::optional<AuthScheme> parse_auth_scheme(std::string_view name) {
    for (const auto& [scheme, n] : kSchemes) {
        if (n == name) {
            return scheme;
        }
    }
    return std::nullopt;
}

core::Result<core::Ok> authenticate(const AuthConfig& auth, const Request& request,
                                    core::TimePoint now) {
    if (auth.scheme == AuthScheme::kNone) {
        if (!auth.insecure) {
            return unauthorized("source has no authentication and is not marked insecure");
        }
        return core::Ok{};
    }
    if (auth.secret.empty()) {
        // An empty secret would match an empty credential: refuse rather than open the source.
        return Error{ErrorCode::kInternal, "source auth has no secret configured", ""};
    }
    switch (auth.scheme) {
        case AuthScheme::kBearer: {
            auto token = credentials(request, "Bearer");
            if (!token) {
                return unauthorized("missing bearer token");
            }
            if (!same_secret(*token, auth.secret)) {
                return unauthorized("invalid bearer token");
            }
            return core::Ok{};
        }
        case AuthScheme::kBasic: {
            auto encoded = credentials(request, "Basic");
            if (!encoded) {
                return unauthorized("missing basic credentials");
            }
            auto decoded = crypto::base64_decode(*encoded);
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon == std::string::npos) {
                return unauthorized("malformed basic credentials");
            }
            const std::string_view user = std::string_view(*decoded).substr(0, colon);
            const std::string_view pass = std::string_view(*decoded).substr(colon + 1);
            // Both are compared whatever the first gives, so timing says nothing about which
            // failed.
            const bool user_ok = same_secret(user, auth.username);
            const bool pass_ok = same_secret(pass, auth.secret);
            if (!(user_ok && pass_ok)) {
                return unauthorized("invalid basic credentials");
            }
            return core::Ok{};
        }
        case AuthScheme::kHeader: {
            if (auth.header.empty()) {
                return Error{ErrorCode::kInternal, "source auth names no header", ""};
            }
            auto value = request.headers.get(auth.header);
            if (!value) {
                return unauthorized("missing header " + auth.header);
            }
            if (!same_secret(detail::trim(*value), auth.secret)) {
                return unauthorized("invalid value in header " + auth.header);
            }
            return core::Ok{};
        }
        case AuthScheme::kQueryToken: {
            const std::string param = auth.query_param.empty() ? "token" : auth.query_param;
            auto token = query_param(request.query, param);
            if (!token) {
                return unauthorized("missing query parameter " + param);
            }
            if (!same_secret(*token, auth.secret)) {
                return unauthorized("invalid token in query parameter " + param);
            }
            return core::Ok{};
        }
        case AuthScheme::kHmacSha256:
            return check_hmac(auth, request, now);
        case AuthScheme::kRoutingKey: {
            auto key = routing_key_of(request.body);
            if (!key) {
                return unauthorized("missing routing_key");
            }
            if (!same_secret(*key, auth.secret)) {
                return unauthorized("invalid routing_key");
            }
            return core::Ok{};
        }
        case AuthScheme::kNone:
            break;
    }
    return unauthorized("unsupported authentication scheme");
}

}  // namespace sonae::ingest
