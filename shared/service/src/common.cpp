#include <spdlog/spdlog.h>

#include <sonae/service/common.hpp>

namespace sonae::service {

core::Result<Common> read_common(const config::Environment& env, bool with_config) {
    auto schemas = loader::Schemas::load(env.schema_dir);
    if (!schemas)
        return schemas.error();
    auto redis = redis::Settings::parse(env.redis_url);
    if (!redis)
        return redis.error();
    redis->ca_file = env.redis_ca;
    for (const auto& [host, port] : env.redis_sentinels)
        redis->sentinels.push_back(redis::Endpoint{host, port});
    redis->sentinel_master = env.redis_sentinel_master;
    redis->wait_replicas = env.redis_wait_replicas;
    auto amqp = amqp::Settings::parse(env.amqp_url);
    if (!amqp)
        return amqp.error();
    amqp->ca_file = env.amqp_ca;
    Common common{std::move(schemas.value()), Bus{*redis, *amqp, env.prefix}, {}};
    if (with_config) {
        auto cfg = config::load(env.config_dir, common.schemas);
        if (!cfg) {
            return core::Error{cfg.error().code, "configuration refused: " + cfg.error().message,
                               ""};
        }
        spdlog::info("{}", config::describe(*cfg));
        common.config = std::move(cfg.value());
    }
    return common;
}

}  // namespace sonae::service
