#include <csignal>
#include <iostream>

#include <sonae/log/log.hpp>
#include <sonae/service/main.hpp>
#include <sonae/service/stop.hpp>

namespace sonae::service {

int run(const std::string& name, const Factory& make) {
    const StopSignals signals;  // before any thread starts, so that every thread blocks them
    // A peer that closed its end turns a write into an error, not a dead process: OpenSSL
    // (rediss://, amqps://) and hiredis write with write(2), which raises SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    auto env = config::read_environment();
    if (!env) {
        std::cerr << "sonae-" << name << ": " << env.error().message << "\n";
        return 2;
    }
    log::init(name, env->log_level, env->log_json ? log::Format::kJson : log::Format::kText);
    auto svc = make(*env);
    if (!svc) {
        std::cerr << "sonae-" << name << ": " << svc.error().message << "\n";
        return 2;
    }
    try {
        svc.value()->start();
    } catch (const std::exception& e) {
        std::cerr << "sonae-" << name << ": cannot start: " << e.what() << "\n";
        svc.value()->stop();
        return 1;
    }
    const int sig = signals.wait();
    spdlog::info("signal {}: stopping", sig);
    svc.value()->stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace sonae::service
