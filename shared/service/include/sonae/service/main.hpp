// The one main of every sonae service: log, read the environment, build the service, start it,
// wait for SIGINT/SIGTERM, stop it. A service's own main.cpp only says how to build it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <sonae/config/config.hpp>
#include <sonae/core/result.hpp>

namespace sonae::service {

class Service {
  public:
    virtual ~Service() = default;
    // Starts the service's threads; throws when it cannot (an address taken).
    virtual void start() = 0;
    // Finishes in-flight work and joins every thread.
    virtual void stop() = 0;
};

using Factory =
    std::function<core::Result<std::unique_ptr<Service>>(const config::Environment& env)>;

// Exit status: 0 stopped by a signal, 1 could not start, 2 refused configuration.
int run(const std::string& name, const Factory& make);

}  // namespace sonae::service
