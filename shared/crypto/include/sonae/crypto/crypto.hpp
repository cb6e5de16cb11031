// Hashes, HMACs, encodings and secret comparison over OpenSSL, plus Standard Webhooks signing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sonae::crypto {

std::string sha256(std::string_view data);                             // raw 32 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// RFC 4648 §5 (URL- and file-safe alphabet), no padding.
std::string base64url_encode(std::string_view bytes);

// RSASSA-PKCS1-v1_5 with SHA-256 under a PEM private key (raw signature); none for a bad key.
std::optional<std::string> sign_rs256(std::string_view pem_private_key, std::string_view data);
// A compact JWT (RFC 7519) signed RS256: header.claims.signature, each base64url.
std::optional<std::string> jwt_rs256(std::string_view claims_json,
                                     std::string_view pem_private_key);

// Drains this thread's OpenSSL error queue into one line ("a; b"), or "unknown error" when it
// is empty: the detail of a TLS or key-loading failure.
std::string openssl_errors();

// Compares in time independent of where the inputs differ (length is not hidden).
bool constant_time_equal(std::string_view a, std::string_view b);

std::string random_bytes(std::size_t n);
// RFC 4122 version 4 UUID from the OS CSPRNG.
std::string uuid_v4();

// Standard Webhooks (https://www.standardwebhooks.com): the secret is "whsec_" + base64(key).
namespace webhooks {
// Signature header value for one message: "v1,<base64(HMAC-SHA256(key, id.ts.body))>".
std::optional<std::string> sign(std::string_view secret, std::string_view msg_id,
                                std::int64_t timestamp_s, std::string_view body);
// Accepts when any of the space-separated v1 signatures matches and the timestamp lies within
// `tolerance_s` of `now_s`.
bool verify(std::string_view secret, std::string_view msg_id, std::string_view timestamp,
            std::string_view signature_header, std::string_view body, std::int64_t now_s,
            std::int64_t tolerance_s = 300);
}  // namespace webhooks

}  // namespace sonae::crypto
