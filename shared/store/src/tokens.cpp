#include <nlohmann/json.hpp>

#include <sonae/crypto/crypto.hpp>
#include <sonae/store/tokens.hpp>

namespace sonae::store {
namespace {

using nlohmann::json;

std::optional<TokenInfo> parse(const std::string& text) {
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object())
        return std::nullopt;
    return TokenInfo{j.value("name", ""), j.value("tenant", "default"), j.value("role", "viewer"),
                     j.value("created_at", core::TimePoint{0})};
}

// Adds the token unless one of the same name exists: names are how operators revoke them.
const redis::Script kAdd(R"lua(
for i, v in ipairs(redis.call('HVALS', KEYS[1])) do
  if cjson.decode(v)['name'] == ARGV[3] then return 0 end
end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
)lua");

}  // namespace

std::string new_token() {
    return "sonae_" + crypto::base64url_encode(crypto::random_bytes(32));
}

std::string token_hash(const std::string& token) {
    return crypto::to_hex(crypto::sha256(token));
}

bool TokenStore::add(const std::string& token, const TokenInfo& info) {
    const json j = {{"name", info.name},
                    {"tenant", info.tenant},
                    {"role", info.role},
                    {"created_at", info.created_at}};
    auto r = redis_.eval(kAdd, {keys_.tokens()}, {token_hash(token), j.dump(), info.name});
    return r.integer() == 1;
}

std::optional<TokenInfo> TokenStore::find_by_hash(const std::string& sha256_hex) {
    auto r = redis_.command({"HGET", keys_.tokens(), sha256_hex});
    if (r.is_nil())
        return std::nullopt;
    return parse(r.str());
}

std::vector<TokenInfo> TokenStore::list() {
    std::vector<TokenInfo> out;
    for (const auto& v : redis_.command({"HVALS", keys_.tokens()}).elements()) {
        if (auto t = parse(v.str()))
            out.push_back(std::move(*t));
    }
    return out;
}

bool TokenStore::revoke(const std::string& name) {
    auto all = redis_.command({"HGETALL", keys_.tokens()});
    const auto& e = all.elements();
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
        auto t = parse(e[i + 1].str());
        if (t && t->name == name)
            return redis_.command({"HDEL", keys_.tokens(), e[i].str()}).integer() == 1;
    }
    return false;
}

}  // namespace sonae::store
