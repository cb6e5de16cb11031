// API tokens kept in Redis (PRODUCT §10): `sonae token create` stores only the SHA-256 of a token
// with its name, tenant and role; the gateway looks a bearer token up by its hash. Tokens in
// responders.yaml (api_tokens) work the same way without Redis.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sonae/core/time.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/keys.hpp>

namespace sonae::store {

struct TokenInfo {
    std::string name;
    std::string tenant = "default";
    std::string role;  // viewer | responder | commander | admin | prefecture
    core::TimePoint created_at = 0;
};

// A fresh token: "sonae_" and 32 random bytes, base64url.
std::string new_token();
// Hex SHA-256 of a token, the form it is stored and configured in.
std::string token_hash(const std::string& token);

class TokenStore {
  public:
    TokenStore(redis::Connection& redis, Keys keys) : redis_(redis), keys_(std::move(keys)) {}
    // Stores the hash of `token` with `info`. False when a token of that name exists.
    bool add(const std::string& token, const TokenInfo& info);
    std::optional<TokenInfo> find_by_hash(const std::string& sha256_hex);
    std::vector<TokenInfo> list();
    // Removes the token of that name; false when there is none.
    bool revoke(const std::string& name);

  private:
    redis::Connection& redis_;
    Keys keys_;
};

}  // namespace sonae::store
