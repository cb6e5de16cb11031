// `sonae exercise import`: a facilitator's inject timeline, kept in a spreadsheet and saved as
// CSV (UTF-8 with or without BOM, or Shift_JIS as Excel in Japan saves it), becomes a scenario
// YAML (schemas/scenario.schema.json). Pure: bytes in, YAML text or "file:line: reason" out.
// The mapping is documented in docs/exercises.md ("Importing a spreadsheet").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <sonae/core/result.hpp>

namespace sonae::cli {

// The start of an imported scenario when --start is not given (the scenario parser's default).
inline constexpr const char* kDefaultImportStart = "2026-04-01T09:00:00+09:00";

struct DecodedText {
    std::string text;      // UTF-8, without a byte order mark
    std::string encoding;  // "UTF-8", "UTF-8 (BOM)" or "Shift_JIS (CP932)"
};
// BOM → UTF-8; valid UTF-8 → UTF-8; otherwise CP932 (what Excel in Japan saves as "CSV").
// Errors read "file:line: reason" with the line of the first byte that decodes in neither.
core::Result<DecodedText> decode_spreadsheet_text(std::string_view bytes, const std::string& file);

struct CsvRecord {
    int line = 0;  // physical line where the record starts (a quoted cell may span lines)
    std::vector<std::string> cells;
};
// RFC 4180: quoted cells with commas, doubled quotes and line breaks; CRLF or LF. Blank lines are
// skipped. Errors read "file:line: reason".
core::Result<std::vector<CsvRecord>> parse_csv(std::string_view text, const std::string& file);

struct TimelineOptions {
    std::string file = "timeline.csv";  // for messages, and the default id and title
    std::string id;                     // default: from the file name
    std::string title;                  // default: the file name without extension
    std::string start = kDefaultImportStart;
};

struct TimelineImport {
    std::string yaml;                 // the scenario, when errors is empty
    std::vector<std::string> errors;  // "file:line: reason", every bad row in file order
    std::string encoding;
    std::size_t injects = 0;
    std::size_t players = 0;
    std::size_t expectations = 0;
};
TimelineImport import_timeline(std::string_view bytes, const TimelineOptions& options);

}  // namespace sonae::cli
