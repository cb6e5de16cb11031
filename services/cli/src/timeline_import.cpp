#include "timeline_import.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>

#include <csv.h>
#include <iconv.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <sonae/core/command.hpp>
#include <sonae/core/event.hpp>
#include <sonae/core/time.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/sim/simulate.hpp>

namespace sonae::cli {
namespace {

using core::Duration;

core::Error error_at(const std::string& file, int line, const std::string& reason) {
    return core::Error{core::ErrorCode::kInvalidField,
                       file + ":" + std::to_string(line) + ": " + reason,
                       "line:" + std::to_string(line)};
}

int line_at(std::string_view bytes, std::size_t offset) {
    return 1 + static_cast<int>(std::count(bytes.begin(), bytes.begin() + offset, '\n'));
}

// Converts `in` from `from` to UTF-8 with glibc's iconv: the text, or the offset of the first
// byte that is not a complete, valid character in `from`.
struct Conversion {
    std::string text;
    std::optional<std::size_t> bad_offset;
};
Conversion to_utf8(const char* from, std::string_view in) {
    struct Closer {
        void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
    };
    const iconv_t raw = iconv_open("UTF-8", from);
    if (raw == reinterpret_cast<iconv_t>(-1)) {
        throw std::runtime_error(std::string("iconv cannot convert from ") + from);
    }
    const std::unique_ptr<void, Closer> cd(raw);
    std::string input(in);  // iconv wants a mutable pointer
    char* src = input.data();
    std::size_t src_left = input.size();
    Conversion out;
    std::string buf(input.size() * 3 / 2 + 16, '\0');
    std::size_t used = 0;
    while (src_left > 0) {
        char* dst = buf.data() + used;
        std::size_t dst_left = buf.size() - used;
        const std::size_t rc = iconv(raw, &src, &src_left, &dst, &dst_left);
        used = buf.size() - dst_left;
        if (rc != static_cast<std::size_t>(-1))
            break;
        if (errno == E2BIG) {
            buf.resize(buf.size() * 2);
            continue;
        }
        // EILSEQ: an invalid sequence; EINVAL: the text ends inside a character.
        out.bad_offset = input.size() - src_left;
        return out;
    }
    buf.resize(used);
    out.text = std::move(buf);
    return out;
}

// ---- CSV ---------------------------------------------------------------------------------------

struct CsvState {
    std::vector<CsvRecord> records;
    CsvRecord current;
};

void on_cell(void* data, std::size_t len, void* state) {
    auto& s = *static_cast<CsvState*>(state);
    s.current.cells.emplace_back(data == nullptr ? "" : std::string(static_cast<char*>(data), len));
}

void on_record(int /*terminator*/, void* state) {
    auto& s = *static_cast<CsvState*>(state);
    s.records.push_back(std::move(s.current));
    s.current = CsvRecord{};
}

struct CsvParser {
    CsvParser() {
        if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
            throw std::bad_alloc();
    }
    ~CsvParser() { csv_free(&p); }
    CsvParser(const CsvParser&) = delete;
    CsvParser& operator=(const CsvParser&) = delete;
    csv_parser p{};
};

// ---- Text helpers ------------------------------------------------------------------------------

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims ASCII white space and the ideographic space (U+3000) that Japanese input leaves.
std::string trim(std::string_view s) {
    static constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
    for (;;) {
        while (!s.empty() && is_space(s.front()))
            s.remove_prefix(1);
        while (!s.empty() && is_space(s.back()))
            s.remove_suffix(1);
        if (s.starts_with(kIdeographicSpace)) {
            s.remove_prefix(kIdeographicSpace.size());
        } else if (s.ends_with(kIdeographicSpace)) {
            s.remove_suffix(kIdeographicSpace.size());
        } else {
            return std::string(s);
        }
    }
}

std::string lower_ascii(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Splits on white space (ASCII or U+3000), commas, semicolons, slashes and 、.
std::vector<std::string> split_list(const std::string& s) {
    static const std::regex kSeparators("[\\s,;/]+|\xE3\x80\x80|\xE3\x80\x81|\xEF\xBC\x8C");
    std::vector<std::string> out;
    for (std::sregex_token_iterator it(s.begin(), s.end(), kSeparators, -1), end; it != end; ++it) {
        if (it->length() > 0)
            out.push_back(it->str());
    }
    return out;
}

const std::regex& id_pattern() {
    static const std::regex kId("^[a-z0-9][a-z0-9_-]{0,63}$");
    return kId;
}

bool is_id(const std::string& s) {
    return std::regex_match(s, id_pattern());
}

std::string in_quotes(const std::string& s) {
    return "'" + s + "'";
}

// ---- Columns -----------------------------------------------------------------------------------

enum class Column { kOffset, kTeam, kChannel, kContent, kExpect, kScore, kExpiry, kIgnored };

const char* column_name(Column c) {
    switch (c) {
        case Column::kOffset:
            return "offset";
        case Column::kTeam:
            return "team or player";
        case Column::kChannel:
            return "channel";
        case Column::kContent:
            return "content";
        case Column::kExpect:
            return "expected action";
        case Column::kScore:
            return "score";
        case Column::kExpiry:
            return "expiry";
        case Column::kIgnored:
            break;
    }
    return "notes";
}

// A header cell without case, spaces, '_', '-', '/', '・' or '／', e.g. "Expected action" →
// "expectedaction", "チーム／担当" → "チーム担当".
std::string header_key(const std::string& cell) {
    std::string s = lower_ascii(trim(cell));
    for (const std::string_view drop : {"\xE3\x83\xBB", "\xEF\xBC\x8F", "\xE3\x80\x80"}) {
        for (auto pos = s.find(drop); pos != std::string::npos; pos = s.find(drop))
            s.erase(pos, drop.size());
    }
    std::erase_if(s, [](char c) { return c == ' ' || c == '_' || c == '-' || c == '/'; });
    return s;
}

std::optional<Column> parse_column(const std::string& cell) {
    static const std::map<std::string, Column> kColumns{
        {"offset", Column::kOffset},
        {"at", Column::kOffset},
        {"time", Column::kOffset},
        {"経過時間", Column::kOffset},
        {"オフセット", Column::kOffset},
        {"team", Column::kTeam},
        {"player", Column::kTeam},
        {"teamorplayer", Column::kTeam},
        {"teamplayer", Column::kTeam},
        {"to", Column::kTeam},
        {"チーム", Column::kTeam},
        {"担当", Column::kTeam},
        {"担当者", Column::kTeam},
        {"チーム担当", Column::kTeam},
        {"宛先", Column::kTeam},
        {"channel", Column::kChannel},
        {"チャネル", Column::kChannel},
        {"チャンネル", Column::kChannel},
        {"content", Column::kContent},
        {"内容", Column::kContent},
        {"expectedaction", Column::kExpect},
        {"expected", Column::kExpect},
        {"expectation", Column::kExpect},
        {"期待される対応", Column::kExpect},
        {"期待対応", Column::kExpect},
        {"score", Column::kScore},
        {"points", Column::kScore},
        {"配点", Column::kScore},
        {"expiry", Column::kExpiry},
        {"deadline", Column::kExpiry},
        {"by", Column::kExpiry},
        {"期限", Column::kExpiry},
        {"#", Column::kIgnored},
        {"no", Column::kIgnored},
        {"no.", Column::kIgnored},
        {"番号", Column::kIgnored},
        {"notes", Column::kIgnored},
        {"note", Column::kIgnored},
        {"comment", Column::kIgnored},
        {"備考", Column::kIgnored},
        {"メモ", Column::kIgnored},
    };
    const auto it = kColumns.find(header_key(cell));
    if (it == kColumns.end())
        return std::nullopt;
    return it->second;
}

// ---- Channels ----------------------------------------------------------------------------------

struct Channel {
    enum class Kind { kEvent, kNarrative, kCommand };
    Kind kind = Kind::kNarrative;
    std::optional<ingest::Format> format;  // events: none = a canonical event
};

std::optional<Channel> parse_channel(const std::string& cell, std::string& problem) {
    const std::string c = lower_ascii(trim(cell));
    static const std::set<std::string> kEvent{"alert", "event", "siem", "アラート", "イベント"};
    static const std::set<std::string> kCommand{"command", "cmd", "chatops", "コマンド"};
    static const std::set<std::string> kNarrative{
        "phone",      "tel",        "call",  "電話",      "mail",       "email",    "e-mail",
        "メール",     "press",      "media", "報道",      "記者",       "chat",     "slack",
        "teams",      "mattermost", "line",  "lineworks", "line works", "チャット", "fax",
        "ファクス",   "ファックス", "visit", "来訪",      "口頭",       "verbal",   "message",
        "メッセージ", "memo",       "sns",   "web",       "radio",      "無線"};
    if (kEvent.contains(c))
        return Channel{Channel::Kind::kEvent, std::nullopt};
    if (kCommand.contains(c))
        return Channel{Channel::Kind::kCommand, std::nullopt};
    if (kNarrative.contains(c))
        return Channel{Channel::Kind::kNarrative, std::nullopt};
    std::string format = c;
    if (const auto colon = c.find(':'); colon != std::string::npos) {
        if (!kEvent.contains(c.substr(0, colon))) {
            problem = "unknown channel " + in_quotes(trim(cell)) + " (events: siem:<format>)";
            return std::nullopt;
        }
        format = c.substr(colon + 1);
    }
    if (auto f = ingest::parse_format(format))
        return Channel{Channel::Kind::kEvent, f};
    problem = c.find(':') != std::string::npos
                  ? "unknown event format " + in_quotes(format) +
                        " (generic, cloudevents, alertmanager, pagerduty, wazuh, elastic, "
                        "splunk, grafana)"
                  : "unknown channel " + in_quotes(trim(cell)) +
                        " (siem:<format> or alert for an event; command for a player; phone, "
                        "mail, press, chat ... for a message: see docs/exercises.md)";
    return std::nullopt;
}

// ---- Offsets, expectations, scores -------------------------------------------------------------

struct Offset {
    std::string text;  // as written in the scenario
    Duration at = 0;
};

// "45m", "1h30m", "D+1 H+3 M+45" (kept as written, white space collapsed) or a spreadsheet's
// "1:30" / "1:30:00" (hours:minutes[:seconds], written as "1h30m").
std::optional<Offset> parse_at(const std::string& cell) {
    std::string text;
    for (const auto& part : split_list(cell))
        text += (text.empty() ? "" : " ") + part;
    static const std::regex kClock("^([0-9]+):([0-5][0-9])(?::([0-5][0-9]))?$");
    static const std::regex kOffset(
        "^(([0-9]+(ms|s|m|h|d|w))+|[DdHhMmSs]\\+[0-9]+( +[DdHhMmSs]\\+[0-9]+)*)$");
    std::smatch m;
    if (std::regex_match(text, m, kClock)) {
        const Duration d = std::stoll(m[1].str()) * core::kHour +
                           std::stoll(m[2].str()) * core::kMinute +
                           (m[3].matched ? std::stoll(m[3].str()) : 0) * core::kSecond;
        return Offset{core::format_duration(d), d};
    }
    if (text.size() > 40 || !std::regex_match(text, kOffset))
        return std::nullopt;
    const auto d = sim::parse_offset(text);
    if (!d)
        return std::nullopt;
    return Offset{text, *d};
}

struct Expectation {
    std::string key;      // step_done, rto_met, notified_role, escalated or resolved
    std::string subject;  // empty for resolved
    std::string id;
};

// "done isolate", "rto_met juki", "notified prefecture", "escalated critical-to-ciso",
// "resolved", or their Japanese words (完了, RTO達成, 通知, エスカレーション, 終結).
std::optional<Expectation> parse_expectation(const std::string& cell, std::string& problem) {
    struct Kind {
        const char* key;
        const char* id_prefix;
    };
    static const std::map<std::string, Kind> kKinds{
        {"done", {"step_done", "done"}},
        {"step_done", {"step_done", "done"}},
        {"完了", {"step_done", "done"}},
        {"rto_met", {"rto_met", "rto"}},
        {"rto", {"rto_met", "rto"}},
        {"rto達成", {"rto_met", "rto"}},
        {"notified", {"notified_role", "notified"}},
        {"notify", {"notified_role", "notified"}},
        {"notified_role", {"notified_role", "notified"}},
        {"通知", {"notified_role", "notified"}},
        {"escalated", {"escalated", "escalated"}},
        {"escalate", {"escalated", "escalated"}},
        {"エスカレーション", {"escalated", "escalated"}},
        {"resolved", {"resolved", "resolved"}},
        {"closed", {"resolved", "resolved"}},
        {"終結", {"resolved", "resolved"}},
    };
    const auto words = split_list(trim(cell));
    const auto it = words.empty() ? kKinds.end() : kKinds.find(lower_ascii(words[0]));
    if (it == kKinds.end()) {
        problem = "expected action " + in_quotes(trim(cell)) +
                  " is not one of: done <step>, rto_met <service>, notified <role>, "
                  "escalated <key>, resolved";
        return std::nullopt;
    }
    Expectation e{it->second.key, "", it->second.id_prefix};
    if (e.key == "resolved") {
        if (words.size() != 1) {
            problem = "expected action " + in_quotes(trim(cell)) + ": resolved takes no argument";
            return std::nullopt;
        }
        return e;
    }
    if (words.size() != 2 || !is_id(words[1])) {
        problem = "expected action " + in_quotes(trim(cell)) + ": " + words[0] +
                  " wants one id (lower-case letters, digits, '-' or '_'), e.g. " + words[0] +
                  " isolate";
        return std::nullopt;
    }
    e.subject = words[1];
    e.id += "-" + e.subject;
    return e;
}

std::optional<double> parse_score(std::string s) {
    for (const std::string_view unit : {"points", "pts", "pt", "点"}) {
        if (s.ends_with(unit)) {
            s = trim(s.substr(0, s.size() - unit.size()));
            break;
        }
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
        return std::nullopt;
    return v;
}

// ---- YAML --------------------------------------------------------------------------------------

// Strings that YAML 1.2's core schema would read back as something else (a number, a boolean,
// null) are double-quoted; yaml-cpp quotes what else needs it.
void emit_string(YAML::Emitter& out, const std::string& s) {
    static const std::regex kNotAString(
        "^(|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|"
        "Off|OFF|[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|"
        "[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$");
    if (std::regex_match(s, kNotAString))
        out << YAML::DoubleQuoted << s;
    else
        out << s;
}

void emit_json(YAML::Emitter& out, const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::object:
            out << YAML::BeginMap;
            for (const auto& [k, v] : j.items()) {
                out << YAML::Key;
                emit_string(out, k);
                out << YAML::Value;
                emit_json(out, v);
            }
            out << YAML::EndMap;
            break;
        case nlohmann::json::value_t::array:
            out << YAML::BeginSeq;
            for (const auto& v : j)
                emit_json(out, v);
            out << YAML::EndSeq;
            break;
        case nlohmann::json::value_t::string:
            emit_string(out, j.get_ref<const std::string&>());
            break;
        case nlohmann::json::value_t::boolean:
            out << (j.get<bool>() ? "true" : "false");
            break;
        case nlohmann::json::value_t::null:
            out << YAML::Null;
            break;
        default:  // numbers: JSON's own rendering reads back as the same number
            out << j.dump();
            break;
    }
}

void emit_number(YAML::Emitter& out, double v) {
    if (v == std::floor(v) && v < 1e15)
        out << static_cast<long long>(v);
    else
        out << nlohmann::json(v).dump();
}

// ---- Rows --------------------------------------------------------------------------------------

struct Row {
    int line = 0;
    std::string offset, team, channel, content, expect, score, expiry;
};

struct InjectOut {
    std::string at;
    std::optional<ingest::Format> format;  // event rows
    bool event = false;
    nlohmann::json payload;
    std::string message;
    std::vector<std::string> to;
};
struct PlayerOut {
    std::string at;
    std::string as;
    std::string role;
    std::string command;
};
struct ExpectOut {
    std::string id;
    std::string key;
    std::string subject;
    std::string by;
    std::optional<double> score;
};

class Converter {
  public:
    Converter(const TimelineOptions& options, core::TimePoint start)
        : options_(options), start_(start) {}

    void fail(int line, const std::string& reason) {
        errors_.push_back(options_.file + ":" + std::to_string(line) + ": " + reason);
    }

    void row(const Row& r) {
        const auto fail = [&](const std::string& reason) { this->fail(r.line, reason); };
        std::optional<Offset> at;
        if (!r.offset.empty()) {
            at = parse_at(r.offset);
            if (!at) {
                return fail("offset " + in_quotes(r.offset) +
                            " is not an offset (45m, 1h30m, D+1 H+3 M+45 or 1:30)");
            }
        }
        // The row's inject or player action.
        if (!r.channel.empty()) {
            std::string problem;
            const auto channel = parse_channel(r.channel, problem);
            if (!channel)
                return fail(problem);
            if (!at)
                return fail("offset is empty: when does this " + r.channel + " happen?");
            if (r.content.empty())
                return fail("content is empty");
            const std::size_t errors_before = errors_.size();
            switch (channel->kind) {
                case Channel::Kind::kEvent:
                    event(r, *at, channel->format, fail);
                    break;
                case Channel::Kind::kNarrative:
                    injects_.push_back(InjectOut{at->text, std::nullopt, false, nullptr, r.content,
                                                 split_list(r.team)});
                    break;
                case Channel::Kind::kCommand:
                    player(r, *at, fail);
                    break;
            }
            if (errors_.size() != errors_before)
                return;
            latest_ = std::max(latest_, at->at);
        } else if (!r.content.empty()) {
            return fail(
                "channel is empty (siem:<format>, alert, command, phone, mail, press, "
                "chat ...)");
        } else if (r.expect.empty()) {
            return fail("nothing to import: no channel, content or expected action");
        }
        // The row's expectation.
        if (r.expect.empty()) {
            if (!r.score.empty() || !r.expiry.empty())
                fail("score or expiry without an expected action");
            return;
        }
        expectation(r, at, fail);
    }

    TimelineImport finish() {
        TimelineImport result;
        result.errors = std::move(errors_);
        if (result.errors.empty() && injects_.empty()) {
            result.errors.push_back(options_.file +
                                    ": no inject: a scenario needs at least one row with a "
                                    "channel other than command");
        }
        if (!result.errors.empty())
            return result;
        result.injects = injects_.size();
        result.players = players_.size();
        result.expectations = expect_.size();
        result.yaml = emit();
        return result;
    }

  private:
    template <typename Fail>
    void event(const Row& r, const Offset& at, std::optional<ingest::Format> format,
               const Fail& fail) {
        auto payload = ingest::parse_json(r.content);
        if (!payload)
            return fail("content of an event row must be a JSON object: " +
                        payload.error().message);
        if (!payload->is_object())
            return fail("content of an event row must be a JSON object");
        // The simulator turns the payload into canonical events the same way: refuse here what
        // it would refuse later, with the row's line.
        if (format) {
            ingest::AdaptContext ctx{std::string(ingest::to_string(*format)), "default",
                                     start_ + at.at};
            if (auto events = ingest::adapt(*format, *payload, ingest::HeaderMap{}, ctx); !events)
                return fail(std::string(ingest::to_string(*format)) +
                            " event: " + events.error().message);
        } else if (auto e = core::event_from_json(*payload); !e) {
            return fail("canonical event: " + e.error().message);
        }
        injects_.push_back(InjectOut{at.text, format, true, std::move(*payload), "", {}});
    }

    template <typename Fail>
    void player(const Row& r, const Offset& at, const Fail& fail) {
        if (auto c = core::parse_command(r.content); !c) {
            // The parser's message goes on with the list of every command: keep its first part.
            std::string why = c.error().message.substr(0, c.error().message.find('\n'));
            if (why.ends_with("; commands:"))
                why.resize(why.size() - std::string_view("; commands:").size());
            return fail("command " + in_quotes(r.content) + ": " + why);
        }
        PlayerOut p{at.text, r.team, "", r.content};
        // "csirt-tanaka (responder)" or with full-width （）: the player and the permission their
        // command runs with.
        static const std::regex kWithRole(
            "^(.*?)\\s*(?:\\(|\xEF\xBC\x88)\\s*([a-z]+)\\s*(?:\\)|\xEF\xBC\x89)$");
        std::smatch m;
        if (std::regex_match(r.team, m, kWithRole)) {
            p.as = m[1].str();
            p.role = m[2].str();
            static const std::set<std::string> kRoles{"viewer", "responder", "commander", "admin"};
            if (!kRoles.contains(p.role))
                return fail("player role " + in_quotes(p.role) +
                            " is not viewer, responder, commander or admin");
        }
        players_.push_back(std::move(p));
    }

    template <typename Fail>
    void expectation(const Row& r, const std::optional<Offset>& at, const Fail& fail) {
        std::string problem;
        auto e = parse_expectation(r.expect, problem);
        if (!e)
            return fail(problem);
        ExpectOut out{unique_id(e->id), e->key, e->subject, "", std::nullopt};
        if (!r.score.empty()) {
            out.score = parse_score(r.score);
            if (!out.score)
                return fail("score " + in_quotes(r.score) + " is not a number ≥ 0");
        }
        if (!r.expiry.empty()) {
            const bool relative = r.expiry.starts_with('+');
            const auto by = parse_at(relative ? r.expiry.substr(1) : r.expiry);
            if (!by)
                return fail("expiry " + in_quotes(r.expiry) +
                            " is not an offset (45m, D+1 H+3, or +30m after the row's offset)");
            if (relative && !at)
                return fail("expiry " + in_quotes(r.expiry) +
                            " is relative (+) but the row has no offset");
            const Duration when = relative ? at->at + by->at : by->at;
            if (at && when < at->at)
                return fail("expiry " + in_quotes(r.expiry) + " is before the row's offset " +
                            in_quotes(at->text));
            out.by = relative ? core::format_duration(when) : by->text;
            latest_ = std::max(latest_, when);
        }
        used_ids_.insert(out.id);
        expect_.push_back(std::move(out));
    }

    // "done-isolate", then "done-isolate-2" ... within the 64 characters of an id.
    std::string unique_id(std::string id) const {
        id.resize(std::min<std::size_t>(id.size(), 64));
        const std::string base = id;
        for (int n = 2; used_ids_.contains(id); ++n) {
            const std::string suffix = "-" + std::to_string(n);
            id = base.substr(0, std::min(base.size(), 64 - suffix.size())) + suffix;
        }
        return id;
    }

    std::string emit() const {
        YAML::Emitter out;
        out.SetIndent(2);
        out << YAML::Comment("Imported by `sonae exercise import " +
                             std::filesystem::path(options_.file).filename().string() + "`");
        out << YAML::BeginMap;
        out << YAML::Key << "id" << YAML::Value << options_.id;
        out << YAML::Key << "title" << YAML::Value;
        emit_string(out, options_.title);
        out << YAML::Key << "start" << YAML::Value << YAML::DoubleQuoted << options_.start;
        if (latest_ > kDefaultDuration)
            out << YAML::Key << "duration" << YAML::Value << core::format_duration(latest_);
        out << YAML::Key << "injects" << YAML::Value << YAML::BeginSeq;
        for (const auto& in : injects_) {
            out << YAML::BeginMap << YAML::Key << "at" << YAML::Value << in.at;
            if (in.event) {
                if (in.format)
                    out << YAML::Key << "format" << YAML::Value
                        << std::string(ingest::to_string(*in.format));
                out << YAML::Key << "event" << YAML::Value << YAML::Flow;
                emit_json(out, in.payload);
            } else {
                out << YAML::Key << "message" << YAML::Value;
                emit_string(out, in.message);
                if (!in.to.empty()) {
                    out << YAML::Key << "to" << YAML::Value << YAML::Flow << YAML::BeginSeq;
                    for (const auto& t : in.to)
                        emit_string(out, t);
                    out << YAML::EndSeq;
                }
            }
            out << YAML::EndMap;
        }
        out << YAML::EndSeq;
        if (!players_.empty()) {
            out << YAML::Key << "players" << YAML::Value << YAML::BeginSeq;
            for (const auto& p : players_) {
                out << YAML::Flow << YAML::BeginMap << YAML::Key << "at" << YAML::Value << p.at;
                if (!p.as.empty()) {
                    out << YAML::Key << "as" << YAML::Value;
                    emit_string(out, p.as);
                }
                if (!p.role.empty())
                    out << YAML::Key << "role" << YAML::Value << p.role;
                out << YAML::Key << "command" << YAML::Value;
                emit_string(out, p.command);
                out << YAML::EndMap;
            }
            out << YAML::EndSeq;
        }
        if (!expect_.empty()) {
            out << YAML::Key << "expect" << YAML::Value << YAML::BeginSeq;
            for (const auto& e : expect_) {
                out << YAML::Flow << YAML::BeginMap << YAML::Key << "id" << YAML::Value << e.id;
                out << YAML::Key << e.key << YAML::Value;
                if (e.key == "resolved")
                    out << "true";
                else
                    out << e.subject;
                if (!e.by.empty())
                    out << YAML::Key << "by" << YAML::Value << e.by;
                if (e.score) {
                    out << YAML::Key << "score" << YAML::Value;
                    emit_number(out, *e.score);
                }
                out << YAML::EndMap;
            }
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
        return std::string(out.c_str()) + "\n";
    }

    static constexpr Duration kDefaultDuration = 72 * core::kHour;  // the scenario's default

    const TimelineOptions& options_;
    core::TimePoint start_;
    std::vector<std::string> errors_;
    std::vector<InjectOut> injects_;
    std::vector<PlayerOut> players_;
    std::vector<ExpectOut> expect_;
    std::set<std::string> used_ids_;
    Duration latest_ = 0;
};

// "Timeline 2026.csv" → "timeline-2026".
std::string id_from_file(const std::string& file) {
    std::string id;
    for (const char c : lower_ascii(std::filesystem::path(file).stem().string())) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (ok)
            id += c;
        else if (!id.empty() && id.back() != '-')
            id += '-';
    }
    while (!id.empty() && id.back() == '-')
        id.pop_back();
    id.resize(std::min<std::size_t>(id.size(), 64));
    return is_id(id) ? id : "imported-timeline";
}

}  // namespace

core::Result<DecodedText> decode_spreadsheet_text(std::string_view bytes, const std::string& file) {
    static constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
    if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
        return core::Error{core::ErrorCode::kInvalidField,
                           file +
                               ": UTF-16 text: save the spreadsheet as \"CSV UTF-8\" or "
                               "\"CSV\" (Shift_JIS)",
                           ""};
    }
    if (bytes.starts_with(kUtf8Bom)) {
        const auto body = bytes.substr(kUtf8Bom.size());
        auto c = to_utf8("UTF-8", body);
        if (c.bad_offset)
            return error_at(file, line_at(body, *c.bad_offset),
                            "not valid UTF-8, although the file starts with a UTF-8 byte order "
                            "mark");
        return DecodedText{std::move(c.text), "UTF-8 (BOM)"};
    }
    if (auto c = to_utf8("UTF-8", bytes); !c.bad_offset)
        return DecodedText{std::move(c.text), "UTF-8"};
    // Not UTF-8: what Excel in Japan writes as "CSV" is Windows' Shift_JIS, CP932. Its second
    // bytes never take the value of '\n', so counting line feeds finds the line.
    auto c = to_utf8("CP932", bytes);
    if (c.bad_offset) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const auto b = static_cast<unsigned char>(bytes[*c.bad_offset]);
        return error_at(file, line_at(bytes, *c.bad_offset),
                        std::string("neither UTF-8 nor Shift_JIS (CP932): byte 0x") + kHex[b >> 4] +
                            kHex[b & 0xF]);
    }
    return DecodedText{std::move(c.text), "Shift_JIS (CP932)"};
}

// libcsv (Debian's libcsv-dev) does the RFC 4180 parsing; it reports cells and records through
// callbacks but not where they are, so the text is fed one byte at a time and a record starts on
// the line of its first byte that is not white space.
core::Result<std::vector<CsvRecord>> parse_csv(std::string_view text, const std::string& file) {
    CsvParser parser;
    CsvState state;
    int line = 1;
    bool between_records = true;
    const auto record_count = [&] { return state.records.size(); };
    for (const char& c : text) {
        const std::size_t before = record_count();
        if (between_records && !is_space(c)) {
            state.current.line = line;
            between_records = false;
        }
        if (csv_parse(&parser.p, &c, 1, on_cell, on_record, &state) != 1) {
            return error_at(file, line,
                            "misplaced quote: a quoted cell must be quoted as a whole, with every "
                            "quote inside it doubled (\"say \"\"hi\"\"\")");
        }
        if (record_count() != before)
            between_records = true;
        if (c == '\n')
            ++line;
    }
    if (csv_fini(&parser.p, on_cell, on_record, &state) != 0)
        return error_at(file, state.current.line, "a quoted cell is not closed");
    return std::move(state.records);
}

TimelineImport import_timeline(std::string_view bytes, const TimelineOptions& options) {
    TimelineImport result;
    const auto fail = [&](const std::string& message) {
        result.errors.push_back(message);
        return result;
    };
    TimelineOptions opts = options;
    if (opts.id.empty())
        opts.id = id_from_file(opts.file);
    if (!is_id(opts.id))
        return fail("--id " + in_quotes(opts.id) +
                    ": an id is lower-case letters, digits, '-' and '_' (at most 64)");
    if (opts.title.empty())
        opts.title = std::filesystem::path(opts.file).stem().string();
    const auto start = core::parse_timestamp(opts.start);
    if (!start)
        return fail("--start " + in_quotes(opts.start) +
                    " is not an RFC 3339 time (e.g. 2026-04-01T09:00:00+09:00)");
    auto text = decode_spreadsheet_text(bytes, opts.file);
    if (!text)
        return fail(text.error().message);
    result.encoding = text->encoding;
    auto records = parse_csv(text->text, opts.file);
    if (!records)
        return fail(records.error().message);
    const auto blank = [](const CsvRecord& r) {
        return std::all_of(r.cells.begin(), r.cells.end(),
                           [](const std::string& c) { return trim(c).empty(); });
    };
    auto first = std::find_if_not(records->begin(), records->end(), blank);
    if (first == records->end())
        return fail(opts.file +
                    ": no header row (offset, team or player, channel, content, "
                    "expected action, score, expiry)");
    // The header: any order, English or Japanese names.
    std::vector<Column> columns;
    std::set<Column> seen;
    for (const auto& cell : first->cells) {
        const auto col = parse_column(cell);
        if (!col) {
            if (trim(cell).empty()) {
                columns.push_back(Column::kIgnored);
                continue;
            }
            return fail(opts.file + ":" + std::to_string(first->line) + ": unknown column " +
                        in_quotes(trim(cell)) +
                        " (offset, team or player, channel, content, expected action, score, "
                        "expiry; or 経過時間, チーム/担当, チャネル, 内容, 期待される対応, 配点, "
                        "期限)");
        }
        if (*col != Column::kIgnored && !seen.insert(*col).second)
            return fail(opts.file + ":" + std::to_string(first->line) + ": two " +
                        column_name(*col) + " columns");
        columns.push_back(*col);
    }
    for (const Column required : {Column::kOffset, Column::kChannel, Column::kContent}) {
        if (!seen.contains(required))
            return fail(opts.file + ":" + std::to_string(first->line) + ": no " +
                        column_name(required) + " column");
    }
    Converter converter(opts, *start);
    for (auto it = std::next(first); it != records->end(); ++it) {
        if (blank(*it))
            continue;
        Row row;
        row.line = it->line;
        bool extra = false;
        for (std::size_t i = 0; i < it->cells.size(); ++i) {
            std::string cell = trim(it->cells[i]);
            if (i >= columns.size()) {
                extra = extra || !cell.empty();
                continue;
            }
            switch (columns[i]) {
                case Column::kOffset:
                    row.offset = std::move(cell);
                    break;
                case Column::kTeam:
                    row.team = std::move(cell);
                    break;
                case Column::kChannel:
                    row.channel = std::move(cell);
                    break;
                case Column::kContent:
                    row.content = std::move(cell);
                    break;
                case Column::kExpect:
                    row.expect = std::move(cell);
                    break;
                case Column::kScore:
                    row.score = std::move(cell);
                    break;
                case Column::kExpiry:
                    row.expiry = std::move(cell);
                    break;
                case Column::kIgnored:
                    break;
            }
        }
        if (extra) {
            converter.fail(it->line, std::to_string(it->cells.size()) +
                                         " cells, but the header has " +
                                         std::to_string(columns.size()));
            continue;
        }
        converter.row(row);
    }
    TimelineImport converted = converter.finish();
    converted.encoding = result.encoding;
    return converted;
}

}  // namespace sonae::cli
