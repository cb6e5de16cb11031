// authenticate(): every scheme accepted, refused when wrong, refused when missing.
#include <sonae/crypto/crypto.hpp>

#include "test_util.hpp"

namespace sonae::ingest {
namespace {

constexpr core::TimePoint kNow = 1775005323000;  // 2026-04-01T01:02:03Z
constexpr std::string_view kBody = R"({"title":"x"})";

core::Result<core::Ok> check(const AuthConfig& auth, const HeaderMap& headers,
                             std::string_view body = kBody, std::string_view query = "",
                             core::TimePoint now = kNow) {
    return authenticate(auth, Request{headers, body, query}, now);
}

void refused(const core::Result<core::Ok>& r, const AuthConfig& auth) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::ErrorCode::kUnauthorized);
    if (!auth.secret.empty()) {
        CHECK(r.error().message.find(auth.secret) == std::string::npos);
    }
}

AuthConfig config(AuthScheme scheme, std::string secret) {
    AuthConfig a;
    a.scheme = scheme;
    a.secret = std::move(secret);
    return a;
}

TEST_CASE("auth bearer") {
    const auto auth = config(AuthScheme::kBearer, "dev-token");
    HeaderMap h;
    refused(check(auth, h), auth);
    h.set("Authorization", "Bearer dev-token");
    CHECK(check(auth, h).ok());
    h.set("authorization", "bearer   dev-token ");
    CHECK(check(auth, h).ok());
    h.set("Authorization", "Bearer dev-token2");
    refused(check(auth, h), auth);
    h.set("Authorization", "Bearer dev-toke");
    refused(check(auth, h), auth);
    h.set("Authorization", "Basic dev-token");
    refused(check(auth, h), auth);
    h.set("Authorization", "Bearerdev-token");
    refused(check(auth, h), auth);
    h.set("Authorization", "Bearer ");
    refused(check(auth, h), auth);
}

TEST_CASE("auth basic") {
    auto auth = config(AuthScheme::kBasic, "s3cret");
    auth.username = "grafana";
    HeaderMap h;
    refused(check(auth, h), auth);
    h.set("Authorization", "Basic " + crypto::base64_encode("grafana:s3cret"));
    CHECK(check(auth, h).ok());
    h.set("Authorization", "Basic " + crypto::base64_encode("grafana:wrong"));
    refused(check(auth, h), auth);
    h.set("Authorization", "Basic " + crypto::base64_encode("other:s3cret"));
    refused(check(auth, h), auth);
    h.set("Authorization", "Basic " + crypto::base64_encode("grafana"));
    refused(check(auth, h), auth);
    h.set("Authorization", "Basic !!!notbase64");
    refused(check(auth, h), auth);
    // A password may contain colons; only the first one separates the user.
    auth.secret = "a:b:c";
    h.set("Authorization", "Basic " + crypto::base64_encode("grafana:a:b:c"));
    CHECK(check(auth, h).ok());
}

TEST_CASE("auth header") {
    auto auth = config(AuthScheme::kHeader, "hdr-secret");
    auth.header = "X-Sonae-Token";
    HeaderMap h;
    refused(check(auth, h), auth);
    h.set("x-sonae-token", "hdr-secret");
    CHECK(check(auth, h).ok());
    h.set("X-Sonae-Token", "hdr-secre");
    refused(check(auth, h), auth);
    auth.header.clear();
    auto misconfigured = check(auth, h);
    REQUIRE_FALSE(misconfigured.ok());
    CHECK(misconfigured.error().code == core::ErrorCode::kInternal);
}

TEST_CASE("auth query-token") {
    auto auth = config(AuthScheme::kQueryToken, "dev-token");
    HeaderMap h;
    refused(check(auth, h, kBody, ""), auth);
    refused(check(auth, h, kBody, "x=1"), auth);
    CHECK(check(auth, h, kBody, "token=dev-token").ok());
    CHECK(check(auth, h, kBody, "a=b&token=dev%2Dtoken").ok());
    refused(check(auth, h, kBody, "token=dev-token-x"), auth);
    auth.query_param = "key";
    refused(check(auth, h, kBody, "token=dev-token"), auth);
    CHECK(check(auth, h, kBody, "key=dev-token").ok());
}

TEST_CASE("auth hmac-sha256 over the raw body, hex or base64, with a prefix") {
    auto auth = config(AuthScheme::kHmacSha256, "hmac-key");
    auth.header = "X-Hub-Signature-256";
    auth.signature_prefix = "sha256=";
    const std::string mac = crypto::hmac_sha256("hmac-key", kBody);
    HeaderMap h;
    refused(check(auth, h), auth);
    h.set("X-Hub-Signature-256", "sha256=" + crypto::to_hex(mac));
    CHECK(check(auth, h).ok());
    refused(check(auth, h, R"({"title":"y"})"), auth);  // body changed
    h.set("X-Hub-Signature-256", crypto::to_hex(mac));  // prefix missing
    refused(check(auth, h), auth);
    h.set("X-Hub-Signature-256", "sha256=" + crypto::to_hex(mac).substr(2));  // truncated
    refused(check(auth, h), auth);
    h.set("X-Hub-Signature-256", "sha256=zz");
    refused(check(auth, h), auth);
    // Upper-case hex is the same signature.
    std::string upper = crypto::to_hex(mac);
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    h.set("X-Hub-Signature-256", "SHA256=" + upper);
    CHECK(check(auth, h).ok());

    auth.encoding = "base64";
    auth.signature_prefix.clear();
    h.set("X-Hub-Signature-256", crypto::base64_encode(mac));
    CHECK(check(auth, h).ok());
    h.set("X-Hub-Signature-256", crypto::base64_encode(crypto::hmac_sha256("other", kBody)));
    refused(check(auth, h), auth);
}

TEST_CASE("auth hmac-sha256 with a timestamp header (Grafana 12)") {
    auto auth = config(AuthScheme::kHmacSha256, "grafana-secret");
    auth.header = "X-Grafana-Alerting-Signature";
    auth.timestamp_header = "X-Grafana-Alerting-Signature-Timestamp";
    const auto sign = [](std::string_view ts) {
        return crypto::to_hex(
            crypto::hmac_sha256("grafana-secret", std::string(ts) + ":" + std::string(kBody)));
    };
    HeaderMap h;
    const std::string ts = std::to_string(kNow / 1000);
    h.set("X-Grafana-Alerting-Signature", sign(ts));
    refused(check(auth, h), auth);  // timestamp header missing
    h.set("X-Grafana-Alerting-Signature-Timestamp", ts);
    CHECK(check(auth, h).ok());
    // The window holds both ways; outside it the signature does not matter.
    CHECK(check(auth, h, kBody, "", kNow + 5 * core::kMinute).ok());
    CHECK(check(auth, h, kBody, "", kNow - 5 * core::kMinute).ok());
    refused(check(auth, h, kBody, "", kNow + 5 * core::kMinute + 1000), auth);
    refused(check(auth, h, kBody, "", kNow - 5 * core::kMinute - 1000), auth);
    // Milliseconds are recognised.
    const std::string ms = std::to_string(kNow);
    h.set("X-Grafana-Alerting-Signature-Timestamp", ms);
    h.set("X-Grafana-Alerting-Signature", sign(ms));
    CHECK(check(auth, h).ok());
    // The timestamp is signed: changing it breaks the signature.
    h.set("X-Grafana-Alerting-Signature-Timestamp", std::to_string(kNow + 1));
    refused(check(auth, h), auth);
    h.set("X-Grafana-Alerting-Signature-Timestamp", "yesterday");
    refused(check(auth, h), auth);
    h.set("X-Grafana-Alerting-Signature-Timestamp", "-5");
    refused(check(auth, h), auth);
    // An old but correctly signed request is a replay.
    const std::string old = std::to_string(kNow / 1000 - 3600);
    h.set("X-Grafana-Alerting-Signature-Timestamp", old);
    h.set("X-Grafana-Alerting-Signature", sign(old));
    auto replay = check(auth, h);
    refused(replay, auth);
    CHECK(replay.error().message.find("window") != std::string::npos);
}

TEST_CASE("auth routing-key from the body") {
    const auto auth = config(AuthScheme::kRoutingKey, "devroutingkey0000000000000000000");
    HeaderMap h;
    CHECK(check(auth, h,
                R"({"routing_key":"devroutingkey0000000000000000000","event_action":"trigger"})")
              .ok());
    refused(check(auth, h, R"({"routing_key":"R0123456789abcdef0123456789abcd"})"), auth);
    refused(check(auth, h, R"({"event_action":"trigger"})"), auth);
    refused(check(auth, h, R"({"routing_key":"devroutingkey0000000000000000000")"), auth);
    refused(check(auth, h, "not json"), auth);
    refused(check(auth, h, R"({"payload":{"routing_key":"devroutingkey0000000000000000000"}})"),
            auth);
}

TEST_CASE("auth none only when the source is marked insecure") {
    auto auth = config(AuthScheme::kNone, "");
    HeaderMap h;
    refused(check(auth, h), auth);
    auth.insecure = true;
    CHECK(check(auth, h).ok());
}

TEST_CASE("auth with no secret configured is refused, never open") {
    for (auto scheme :
         {AuthScheme::kBearer, AuthScheme::kBasic, AuthScheme::kHeader, AuthScheme::kQueryToken,
          AuthScheme::kHmacSha256, AuthScheme::kRoutingKey}) {
        auto auth = config(scheme, "");
        auth.header = "x-h";
        HeaderMap h;
        h.set("Authorization", "Bearer ");
        h.set("x-h", "");
        auto r = check(auth, h, R"({"routing_key":""})", "token=");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == core::ErrorCode::kInternal);
    }
}

}  // namespace
}  // namespace sonae::ingest
