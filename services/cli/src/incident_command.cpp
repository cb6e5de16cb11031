#include <iostream>

#include <sonae/core/incident.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/store/store.hpp>

#include "commands.hpp"

namespace sonae::cli {

int run_verify(const VerifyArgs& args) {
    const auto tenant = core::tenant_of_incident(args.incident);
    if (!tenant) {
        std::cerr << "sonae incident verify: '" << args.incident
                  << "' is not an incident id (INC-YYYYMMDD-NNNN or <tenant>.INC-...)\n";
        return 2;
    }
    auto settings = redis::Settings::parse(args.redis_url);
    if (!settings) {
        std::cerr << "sonae incident verify: " << settings.error().message << "\n";
        return 2;
    }
    try {
        redis::Connection redis(*settings);
        const store::Keys keys{args.prefix};
        auto exists = redis.command({"EXISTS", keys.incident(*tenant, args.incident)});
        if (exists.integer() == 0) {
            std::cerr << args.incident << ": no such incident in " << args.redis_url << " (prefix "
                      << args.prefix << ")\n";
            return 1;
        }
        std::vector<std::string> stored;
        for (const auto& e :
             redis.command({"LRANGE", keys.timeline(*tenant, args.incident), "0", "-1"}).elements())
            stored.push_back(e.str());
        auto head = redis.command({"HGET", keys.incident(*tenant, args.incident), "tlh"});
        const store::ChainCheck check =
            store::verify_chain(stored, head.is_nil() ? std::string{} : head.str());
        if (check.intact) {
            std::cout << args.incident << ": timeline intact (" << stored.size()
                      << " entries, each carrying the SHA-256 of the one before it)\n";
            return 0;
        }
        std::cout << args.incident << ": timeline BROKEN at entry " << check.bad_entry + 1 << " of "
                  << stored.size() << ": " << check.why << "\n";
        if (check.bad_entry < stored.size())
            std::cout << "  " << stored[check.bad_entry] << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "sonae incident verify: " << e.what() << "\n";
        return 2;
    }
}

}  // namespace sonae::cli
