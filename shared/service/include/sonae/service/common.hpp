// What every service reads besides its own settings: the JSON Schemas, the connection settings
// and (for those that need them) the configuration files. Each refusal names what is wrong.
#pragma once

#include <sonae/amqp/connection.hpp>
#include <sonae/config/config.hpp>
#include <sonae/core/result.hpp>
#include <sonae/loader/loader.hpp>
#include <sonae/redis/redis.hpp>
#include <sonae/service/workers.hpp>

namespace sonae::service {

struct Common {
    loader::Schemas schemas;
    Bus bus;                // with the prefix of SONAE_PREFIX
    config::Config config;  // when asked for: sources, channels, responders of SONAE_CONFIG_DIR
};

// With `with_config`, also loads the configuration files, summarised in the log (no secrets).
core::Result<Common> read_common(const config::Environment& env, bool with_config);

}  // namespace sonae::service
