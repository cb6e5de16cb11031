#include <cstdio>
#include <ctime>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <sonae/log/log.hpp>

namespace sonae::log {
namespace {

thread_local std::vector<std::pair<std::string, std::string>> tls_fields;

class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto level = spdlog::level::to_string_view(msg.level);
        const std::string line =
            json_line(std::string(msg.logger_name.data(), msg.logger_name.size()),
                      std::string_view(level.data(), level.size()),
                      std::string_view(msg.payload.data(), msg.payload.size()), msg.time);
        dest.append(line.data(), line.data() + line.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

}  // namespace

Scope::Scope(std::initializer_list<std::pair<const char*, std::string>> fields) {
    for (const auto& [k, v] : fields) {
        if (v.empty())
            continue;
        tls_fields.emplace_back(k, v);
        ++added_;
    }
}

Scope::~Scope() {
    tls_fields.resize(tls_fields.size() - added_);
}

std::string json_line(const std::string& logger, std::string_view level, std::string_view message,
                      std::chrono::system_clock::time_point at) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    const std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = level;
    j["service"] = logger;
    j["msg"] = message;
    for (const auto& [k, v] : tls_fields)
        j[k] = v;  // a nested scope's field of the same name overwrites the outer one
    // Messages quote requests: bytes that are not UTF-8 are replaced rather than thrown on.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void init(const std::string& service, const std::string& level, Format format) {
    auto logger = spdlog::stderr_color_mt(service);
    if (format == Format::kJson) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

}  // namespace sonae::log
