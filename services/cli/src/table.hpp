// Aligned text tables for people: columns padded by display width, so that Japanese (wide)
// characters line up (East Asian Width via utf8proc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sonae::cli {

// Terminal columns `text` takes (wide characters 2, combining marks 0).
std::size_t display_width(std::string_view text);
// `text` cut to at most `width` columns, with "…" when cut.
std::string truncate_to_width(std::string_view text, std::size_t width);

class Table {
  public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    // Limits a column's width (longer cells are cut with "…"); 0: unlimited.
    void max_width(std::size_t column, std::size_t width);
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // Two spaces between columns, no trailing spaces.
    std::string render() const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<std::size_t> max_;
};

}  // namespace sonae::cli
