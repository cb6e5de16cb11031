#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sonae/crypto/crypto.hpp>

using namespace sonae::crypto;

TEST_CASE("sha256 and hmac match RFC 4231 / FIPS vectors") {
    CHECK(to_hex(sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231 test case 2.
    CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hex and base64 round trips, and refusals") {
    CHECK(from_hex("00ff10").value() == std::string("\x00\xff\x10", 3));
    CHECK_FALSE(from_hex("abc").has_value());
    CHECK_FALSE(from_hex("zz").has_value());
    CHECK(base64_encode("sonae") == "c29uYWU=");
    CHECK(base64_decode("c29uYWU=").value() == "sonae");
    CHECK(base64_decode("c29uYWUh").value() == "sonae!");
    CHECK(base64_decode("c28=").value() == "so");
    CHECK_FALSE(base64_decode("c29uYWU").has_value());   // not a multiple of 4
    CHECK_FALSE(base64_decode("c2*uYWU=").has_value());  // bad character
}

TEST_CASE("constant_time_equal") {
    CHECK(constant_time_equal("secret", "secret"));
    CHECK_FALSE(constant_time_equal("secret", "secreT"));
    CHECK_FALSE(constant_time_equal("secret", "secret2"));
    CHECK(constant_time_equal("", ""));
}

TEST_CASE("uuid_v4 has the RFC 4122 shape and differs each time") {
    const std::string a = uuid_v4();
    const std::string b = uuid_v4();
    CHECK(a.size() == 36);
    CHECK(a[14] == '4');
    CHECK((a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'));
    CHECK(a != b);
}

TEST_CASE("Standard Webhooks: signature of the spec's published example") {
    // From the Standard Webhooks specification's reference test vector.
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const std::string body = R"({"test": 2432232314})";
    auto sig = webhooks::sign(secret, id, 1614265330, body);
    REQUIRE(sig.has_value());
    CHECK(*sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK(webhooks::verify(secret, id, "1614265330", *sig, body, 1614265330));
}

TEST_CASE("Standard Webhooks: verification refuses tampering, stale timestamps and bad secrets") {
    const std::string secret = "whsec_c29uYWUtZGV2LXdlYmhvb2stc2VjcmV0LTMyYnl0ZSE=";
    const auto sig = webhooks::sign(secret, "n1", 1000, "{}").value();
    CHECK(webhooks::verify(secret, "n1", "1000", sig, "{}", 1100));
    CHECK(webhooks::verify(secret, "n1", "1000", "v1,bogus " + sig, "{}", 1100));  // any of several
    CHECK_FALSE(webhooks::verify(secret, "n1", "1000", sig, "{ }", 1100));         // body changed
    CHECK_FALSE(webhooks::verify(secret, "n2", "1000", sig, "{}", 1100));          // id changed
    CHECK_FALSE(webhooks::verify(secret, "n1", "1000", sig, "{}", 1000 + 301));    // too old
    CHECK_FALSE(webhooks::verify(secret, "n1", "1000", sig, "{}", 1000 - 301));  // from the future
    CHECK_FALSE(webhooks::verify(secret, "n1", "10x0", sig, "{}", 1000));
    CHECK_FALSE(webhooks::sign("whsec_not*base64", "n1", 1, "{}").has_value());
}

TEST_CASE("openssl_errors drains the error queue into one line") {
    CHECK(openssl_errors() == "unknown error");
    CHECK_FALSE(sign_rs256("not a PEM key", "data").has_value());  // leaves OpenSSL errors queued
    const std::string errors = openssl_errors();
    CHECK(errors != "unknown error");
    CHECK(errors.find("error:") != std::string::npos);
    CHECK(openssl_errors() == "unknown error");
}
