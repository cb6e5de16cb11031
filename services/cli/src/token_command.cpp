// sonae token create|list|revoke: API tokens kept in Redis as SHA-256 hashes (store/tokens.hpp).
#include <iostream>

#include <nlohmann/json.hpp>

#include <sonae/core/time.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/tokens.hpp>

#include "commands.hpp"
#include "table.hpp"

namespace sonae::cli {
namespace {

bool valid_tenant(const std::string& t) {
    if (t.empty() || t.size() > 63)
        return false;
    for (char c : t) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

template <typename F>
int with_tokens(const TokenArgs& args, const std::string& what, F f) {
    auto settings = redis::Settings::parse(args.redis_url);
    if (!settings) {
        std::cerr << what << ": " << settings.error().message << "\n";
        return 2;
    }
    settings->ca_file = args.redis_ca;
    try {
        redis::Connection redis(*settings);
        store::TokenStore tokens(redis, store::Keys{args.prefix});
        return f(tokens);
    } catch (const std::exception& e) {
        std::cerr << what << ": " << e.what() << " (SONAE_REDIS_URL " << args.redis_url << ")\n";
        return 1;
    }
}

}  // namespace

int run_token_create(const TokenArgs& args, const clock::Clock& clock) {
    const std::string what = "sonae token create";
    if (!valid_tenant(args.tenant)) {
        std::cerr << what << ": --tenant must be a tenant name ([a-z0-9-]+)\n";
        return 2;
    }
    if (args.role != "viewer" && args.role != "responder" && args.role != "commander" &&
        args.role != "admin" && args.role != "prefecture") {
        std::cerr << what << ": --role must be viewer, responder, commander, admin or prefecture\n";
        return 2;
    }
    const std::string name = args.name.empty() ? args.tenant + "-" + args.role : args.name;
    const std::string token = store::new_token();
    return with_tokens(args, what, [&](store::TokenStore& tokens) {
        if (!tokens.add(token, {name, args.tenant, args.role, clock.now()})) {
            std::cerr << what << ": a token named '" << name
                      << "' exists (sonae token revoke it, or --name another)\n";
            return 1;
        }
        if (args.json) {
            std::cout << nlohmann::json{{"name", name},
                                        {"tenant", args.tenant},
                                        {"role", args.role},
                                        {"token", token}}
                             .dump(2)
                      << "\n";
        } else {
            std::cerr << "token '" << name << "' (tenant " << args.tenant << ", role " << args.role
                      << "); only its SHA-256 is stored, so this is the one time it is shown:\n";
            std::cout << token << "\n";
        }
        return 0;
    });
}

int run_token_list(const TokenArgs& args) {
    return with_tokens(args, "sonae token list", [&](store::TokenStore& tokens) {
        auto all = tokens.list();
        std::sort(all.begin(), all.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        if (args.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& t : all)
                out.push_back({{"name", t.name},
                               {"tenant", t.tenant},
                               {"role", t.role},
                               {"created_at", core::format_timestamp(t.created_at)}});
            std::cout << nlohmann::json{{"tokens", out}}.dump(2) << "\n";
            return 0;
        }
        Table table({"NAME", "TENANT", "ROLE", "CREATED"});
        for (const auto& t : all)
            table.add({t.name, t.tenant, t.role, core::format_timestamp(t.created_at)});
        std::cout << (all.empty() ? "no tokens in Redis (responders.yaml may configure more)\n"
                                  : table.render());
        return 0;
    });
}

int run_token_revoke(const TokenArgs& args) {
    return with_tokens(args, "sonae token revoke", [&](store::TokenStore& tokens) {
        if (!tokens.revoke(args.name)) {
            std::cerr << "sonae token revoke: no token named '" << args.name << "'\n";
            return 1;
        }
        std::cout << "revoked " << args.name << "\n";
        return 0;
    });
}

// API tokens in Redis (SONAE_REDIS_URL).
void add_token_commands(CLI::App& app, Context& ctx) {
    auto* token = app.add_subcommand("token", "API tokens in Redis (SONAE_REDIS_URL)");
    token->require_subcommand(1);
    auto tok = std::make_shared<TokenArgs>();
    tok->redis_url = ctx.env.redis_url;
    tok->prefix = ctx.env.prefix;
    tok->redis_ca = ctx.env.redis_ca;
    auto* create =
        token->add_subcommand("create", "make a token; it is printed once, its hash stored");
    create->add_option("--tenant", tok->tenant, "tenant (default: default)");
    create->add_option("--role", tok->role, "viewer|responder|commander|admin|prefecture")
        ->required();
    create->add_option("--name", tok->name, "name (default: <tenant>-<role>)");
    create->add_flag("--json", tok->json, "JSON with the token");
    const clock::Clock* clock = ctx.clock;
    create->callback([&ctx, tok, clock] {
        ctx.action = [tok, clock] { return run_token_create(*tok, *clock); };
    });
    auto* list = token->add_subcommand("list", "tokens in Redis (names, never tokens)");
    list->add_flag("--json", tok->json, "JSON");
    list->callback([&ctx, tok] { ctx.action = [tok] { return run_token_list(*tok); }; });
    auto* revoke = token->add_subcommand("revoke", "delete a token by name");
    revoke->add_option("name", tok->name, "token name")->required();
    revoke->callback([&ctx, tok] { ctx.action = [tok] { return run_token_revoke(*tok); }; });
}

}  // namespace sonae::cli
