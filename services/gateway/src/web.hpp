// The live incident board (docs/board.md): index.html, board.js and board.css from
// services/gateway/web, built into the gateway (cmake/Embed.cmake), each under its file name.
#pragma once

#include <map>
#include <string>

namespace sonae::gateway {

const std::map<std::string, std::string>& web_assets();

}  // namespace sonae::gateway
