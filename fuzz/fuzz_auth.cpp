// fuzz_auth: authenticate() with fuzzed configuration, headers, query and body. Besides not
// crashing, a request built with the right credential must pass and the error must never
// contain the secret.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include <sonae/crypto/crypto.hpp>

#include "fuzz_common.hpp"

namespace {

using sonae::ingest::AuthConfig;
using sonae::ingest::AuthScheme;
using sonae::ingest::HeaderMap;

constexpr const char* kHeaderNames[] = {"authorization", "x-signature",  "x-timestamp",
                                        "x-token",       "content-type", "ce-id"};

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    return out;
}

// Printable, no spaces: what a sane configuration holds (trailing blanks are trimmed off
// headers, so they could never match). The non-ASCII marker keeps the secret from matching
// the fixed ASCII wording of an error message by chance.
std::string secret_from(FuzzedDataProvider& in) {
    std::string s = in.ConsumeRandomLengthString(48);
    for (char& c : s) {
        c = static_cast<char>('!' + static_cast<unsigned char>(c) % 94);
    }
    return "\u00a7" + s;
}

// Adds what a legitimate client would send for `auth`.
void add_valid_credentials(const AuthConfig& auth, HeaderMap& headers, std::string& query,
                           std::string& body, std::int64_t now) {
    switch (auth.scheme) {
        case AuthScheme::kBearer:
            headers.set("authorization", "Bearer " + auth.secret);
            break;
        case AuthScheme::kBasic:
            headers.set("authorization",
                        "Basic " + sonae::crypto::base64_encode(auth.username + ":" + auth.secret));
            break;
        case AuthScheme::kHeader:
            headers.set(auth.header, auth.secret);
            break;
        case AuthScheme::kQueryToken:
            query = auth.query_param + "=" + percent_encode(auth.secret);
            break;
        case AuthScheme::kHmacSha256: {
            std::string content = body;
            if (!auth.timestamp_header.empty()) {
                const std::string ts = std::to_string(now / 1000);
                headers.set(auth.timestamp_header, ts);
                content = ts + ":" + body;
            }
            const std::string mac = sonae::crypto::hmac_sha256(auth.secret, content);
            headers.set(auth.header,
                        auth.signature_prefix + (auth.encoding == "base64"
                                                     ? sonae::crypto::base64_encode(mac)
                                                     : sonae::crypto::to_hex(mac)));
            break;
        }
        case AuthScheme::kRoutingKey:
            body = nlohmann::json{{"routing_key", auth.secret}, {"payload", body}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace);
            break;
        case AuthScheme::kNone:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    AuthConfig auth;
    auth.scheme = static_cast<AuthScheme>(in.ConsumeIntegralInRange<int>(0, 6));
    auth.secret = secret_from(in);
    auth.username = in.ConsumeRandomLengthString(16);
    if (auth.username.find(':') != std::string::npos) {
        auth.username.clear();
    }
    auth.header = in.ConsumeBool() ? "x-signature" : "x-token";
    auth.query_param = in.ConsumeBool() ? "token" : "key";
    auth.encoding = in.ConsumeBool() ? "hex" : "base64";
    auth.signature_prefix = in.ConsumeBool() ? "sha256=" : "";
    auth.timestamp_header = in.ConsumeBool() ? "x-timestamp" : "";
    auth.insecure = in.ConsumeBool();
    const std::int64_t now = in.ConsumeIntegralInRange<std::int64_t>(0, 4'102'444'800'000);
    const bool legitimate = in.ConsumeBool();

    HeaderMap headers;
    const int header_count = in.ConsumeIntegralInRange<int>(0, 6);
    for (int i = 0; i < header_count; ++i) {
        const char* name = kHeaderNames[in.ConsumeIntegralInRange<std::size_t>(0, 5)];
        headers.set(name, in.ConsumeRandomLengthString(96));
    }
    std::string query = in.ConsumeRandomLengthString(96);
    std::string body = in.ConsumeRemainingBytesAsString();

    if (legitimate) {
        add_valid_credentials(auth, headers, query, body, now);
    }
    const sonae::ingest::Request request{headers, body, query};
    auto result = sonae::ingest::authenticate(auth, request, now);
    if (!result.ok()) {
        sonae::fuzz::check_error(result.error());
        sonae::fuzz::require(result.error().message.find(auth.secret) == std::string::npos,
                             "error message contains the secret", result.error().message);
    }
    if (legitimate && (auth.scheme != AuthScheme::kNone || auth.insecure)) {
        sonae::fuzz::require(result.ok(), "legitimate request refused",
                             result.ok() ? std::string() : result.error().message);
    }
    return 0;
}
