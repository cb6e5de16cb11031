// Process-wide logging: spdlog to stderr, level from SONAE_LOG_LEVEL (default info).
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace sonae::log {

// Call once at the start of main. `service` prefixes every line.
void init(const std::string& service);

}  // namespace sonae::log
