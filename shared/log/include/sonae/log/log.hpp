// Process-wide logging: spdlog to stderr at the level SONAE_LOG_LEVEL names (config::Environment).
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace sonae::log {

// Call once at the start of main. `service` prefixes every line.
void init(const std::string& service, const std::string& level = "info");

}  // namespace sonae::log
