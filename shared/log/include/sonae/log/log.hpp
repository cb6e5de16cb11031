// Process-wide logging: spdlog to stderr at the level SONAE_LOG_LEVEL names, one JSON object a
// line (or plain text, SONAE_LOG_FORMAT=text), with the ids of what the thread is working on.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

namespace sonae::log {

enum class Format { kJson, kText };

// Call once at the start of main. `service` names the logger ("service" in JSON, [name] in text).
void init(const std::string& service, const std::string& level = "info",
          Format format = Format::kJson);

// Fields ("incident", "event", "command", "notification") added to every JSON line this thread
// logs while the scope lives; scopes nest, an inner field of the same name wins.
class Scope {
  public:
    Scope(std::initializer_list<std::pair<const char*, std::string>> fields);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

  private:
    std::size_t added_ = 0;
};

// One log line as JSON, with this thread's scope fields: what init's JSON format writes.
std::string json_line(const std::string& logger, std::string_view level, std::string_view message,
                      std::chrono::system_clock::time_point at);

}  // namespace sonae::log
