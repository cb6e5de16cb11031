#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <sonae/crypto/crypto.hpp>

namespace sonae::crypto {

namespace {

// SHA-256 fetched from the default provider once: EVP_sha256() makes every EVP_Digest() look the
// implementation up again (a locked property query in OpenSSL 3), which costs more than hashing
// a token. Falls back to EVP_sha256() if the fetch fails.
const EVP_MD* sha256_md() {
    static const EVP_MD* const md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return fetched != nullptr ? fetched : EVP_sha256();
    }();
    return md;
}

}  // namespace

std::string sha256(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, sha256_md(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    return {reinterpret_cast<const char*>(md.data()), len};
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
             &len) == nullptr) {
        throw std::runtime_error("HMAC failed");
    }
    return {reinterpret_cast<const char*>(md.data()), len};
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out += kDigits[c >> 4];
        out += kDigits[c & 0xF];
    }
    return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
        if (ec != std::errc{} || p != hex.data() + i + 2) {
            return std::nullopt;
        }
        out += static_cast<char>(v);
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out = base64_encode(bytes);
    for (char& c : out) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    while (!out.empty() && out.back() == '=')
        out.pop_back();
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
        if (!ok) {
            return std::nullopt;
        }
    }
    std::string out(3 * text.size() / 4, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts padding as zero bytes: trim them.
    std::size_t len = static_cast<std::size_t>(n);
    if (!text.empty() && text.back() == '=')
        --len;
    if (text.size() > 1 && text[text.size() - 2] == '=')
        --len;
    out.resize(len);
    return out;
}

std::optional<std::string> sign_rs256(std::string_view pem_private_key, std::string_view data) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem_private_key.data(), static_cast<int>(pem_private_key.size())),
        &BIO_free);
    if (!bio)
        return std::nullopt;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!key)
        return std::nullopt;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        return std::nullopt;
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        return std::nullopt;
    }
    sig.resize(len);
    return sig;
}

std::optional<std::string> jwt_rs256(std::string_view claims_json,
                                     std::string_view pem_private_key) {
    const std::string signing_input =
        base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url_encode(claims_json);
    auto sig = sign_rs256(pem_private_key, signing_input);
    if (!sig)
        return std::nullopt;
    return signing_input + "." + base64url_encode(*sig);
}

std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        std::array<char, 256> buf{};
        ERR_error_string_n(e, buf.data(), buf.size());
        out += out.empty() ? "" : "; ";
        out += buf.data();
    }
    return out.empty() ? "unknown error" : out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return out;
}

namespace {

// Bumped in a forked child, whose copy of a thread's pool must not hand out the parent's bytes.
std::atomic<unsigned> g_fork_generation{0};

}  // namespace

std::string uuid_v4() {
    // The same CSPRNG bytes, drawn 4 KiB at a time per thread instead of 16 bytes per UUID: one
    // RAND_bytes() call (a lock and a DRBG round in OpenSSL 3) per 256 UUIDs. Bytes handed out
    // are wiped from the pool; a forked child refills before using it.
    struct Pool {
        std::array<unsigned char, 4096> bytes{};
        std::size_t used = sizeof(bytes);
        unsigned generation = 0;
        ~Pool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    };
    static const bool registered = [] {
        return pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1); }) == 0;
    }();
    thread_local Pool pool;
    const unsigned generation = g_fork_generation.load(std::memory_order_relaxed);
    if (!registered || pool.used + 16 > pool.bytes.size() || pool.generation != generation) {
        if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
            throw std::runtime_error("RAND_bytes failed");
        }
        pool.used = 0;
        pool.generation = generation;
    }
    std::array<unsigned char, 16> b{};
    std::copy_n(pool.bytes.data() + pool.used, b.size(), b.data());
    OPENSSL_cleanse(pool.bytes.data() + pool.used, b.size());
    pool.used += b.size();
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(36, '-');
    std::size_t pos = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            ++pos;  // the dashes at 8, 13, 18 and 23
        out[pos++] = kDigits[b[i] >> 4];
        out[pos++] = kDigits[b[i] & 0x0F];
    }
    return out;
}

namespace webhooks {
namespace {
std::optional<std::string> key_of(std::string_view secret) {
    constexpr std::string_view kPrefix = "whsec_";
    if (secret.substr(0, kPrefix.size()) == kPrefix) {
        secret.remove_prefix(kPrefix.size());
    }
    return base64_decode(secret);
}
}  // namespace

std::optional<std::string> sign(std::string_view secret, std::string_view msg_id,
                                std::int64_t timestamp_s, std::string_view body) {
    auto key = key_of(secret);
    if (!key) {
        return std::nullopt;
    }
    std::string content;
    content.reserve(msg_id.size() + body.size() + 24);
    content.append(msg_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
    return "v1," + base64_encode(hmac_sha256(*key, content));
}

bool verify(std::string_view secret, std::string_view msg_id, std::string_view timestamp,
            std::string_view signature_header, std::string_view body, std::int64_t now_s,
            std::int64_t tolerance_s) {
    std::int64_t ts = 0;
    auto [p, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
    if (ec != std::errc{} || p != timestamp.data() + timestamp.size()) {
        return false;
    }
    if (ts < now_s - tolerance_s || ts > now_s + tolerance_s) {
        return false;
    }
    auto expected = sign(secret, msg_id, ts, body);
    if (!expected) {
        return false;
    }
    bool match = false;
    std::size_t pos = 0;
    while (pos <= signature_header.size()) {
        std::size_t end = signature_header.find(' ', pos);
        if (end == std::string_view::npos)
            end = signature_header.size();
        // Compare every candidate so the time taken does not depend on which one matched.
        match = constant_time_equal(signature_header.substr(pos, end - pos), *expected) || match;
        pos = end + 1;
    }
    return match;
}
}  // namespace webhooks

}  // namespace sonae::crypto
