#include "table.hpp"

#include <algorithm>

#include <utf8proc.h>

namespace sonae::cli {
namespace {

// The next code point of `text` from `at` and its byte length (invalid bytes count as one
// column-1 character each, so that broken input still aligns).
std::pair<utf8proc_int32_t, std::size_t> next(std::string_view text, std::size_t at) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + at),
                                    static_cast<utf8proc_ssize_t>(text.size() - at), &cp);
    if (n <= 0)
        return {'?', 1};
    return {cp, static_cast<std::size_t>(n)};
}

std::size_t width_of(utf8proc_int32_t cp) {
    const int w = utf8proc_charwidth(cp);
    return w < 0 ? 0 : static_cast<std::size_t>(w);
}

}  // namespace

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (std::size_t at = 0; at < text.size();) {
        const auto [cp, n] = next(text, at);
        width += width_of(cp);
        at += n;
    }
    return width;
}

std::string truncate_to_width(std::string_view text, std::size_t width) {
    if (display_width(text) <= width)
        return std::string(text);
    std::string out;
    std::size_t used = 0;
    for (std::size_t at = 0; at < text.size();) {
        const auto [cp, n] = next(text, at);
        const std::size_t w = width_of(cp);
        if (used + w + 1 > width)  // room for the ellipsis
            break;
        out.append(text.substr(at, n));
        used += w;
        at += n;
    }
    return out + "…";
}

void Table::max_width(std::size_t column, std::size_t width) {
    if (max_.size() <= column)
        max_.resize(column + 1, 0);
    max_[column] = width;
}

std::string Table::render() const {
    const std::size_t columns = headers_.size();
    std::vector<std::vector<std::string>> cells;
    cells.push_back(headers_);
    for (const auto& r : rows_) {
        std::vector<std::string> row(columns);
        for (std::size_t c = 0; c < columns && c < r.size(); ++c) {
            const std::size_t limit = c < max_.size() ? max_[c] : 0;
            row[c] = limit > 0 ? truncate_to_width(r[c], limit) : r[c];
        }
        cells.push_back(std::move(row));
    }
    std::vector<std::size_t> widths(columns, 0);
    for (const auto& row : cells) {
        for (std::size_t c = 0; c < columns; ++c)
            widths[c] = std::max(widths[c], display_width(row[c]));
    }
    std::string out;
    for (const auto& row : cells) {
        std::string line;
        for (std::size_t c = 0; c < columns; ++c) {
            line += row[c];
            if (c + 1 < columns)
                line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace sonae::cli
