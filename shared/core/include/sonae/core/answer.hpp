// What a responder reads back after a command, on chat, the CLI or the API (PRODUCT §9): the
// result; for `status` the steps with owners and due times and the RTO left per service; for
// `timeline` the last entries; for `help` the usage. Errors carry the usage line, never
// internals. Plain text with a few symbols, readable on every platform.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/core/command.hpp>
#include <sonae/core/engine.hpp>

namespace sonae::core {

std::string answer_ok(const Command& c, const Incident& after);
// A refusal or error; the usage of the command when it was understood at all.
std::string answer_error(const Error& e, const std::optional<Command>& c);
std::string status_text(const Incident& i, const Engine& engine, TimePoint now);
// The last `last` stored timeline entries ({"at","kind","actor","text",...}), oldest first.
std::string timeline_text(const Incident& i, const std::vector<nlohmann::json>& entries,
                          int utc_offset_minutes, std::size_t last = 10);

}  // namespace sonae::core
