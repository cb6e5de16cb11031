// sonae-sink: the webhook target of the benchmarks (Boost.Beast, keep-alive).
//
// Every request except the control ones is answered with --status and "{}". A body carrying
// "bench_ns=<digits>" (the sender's wall-clock time in ns) gives an end-to-end latency sample;
// "bench_seq=<digits>" names the message, so that duplicate deliveries are counted;
// "bench_group=<digits>" (the alert storm's incident group) counts notifications per group and
// keeps the arrival time of each group's first. Alertmanager webhooks ({"alerts": [...]}) add
// their number of alerts to a counter.
//
// Control: GET /stats[?lateness_ms=D][&groups=1] -> statistics as JSON (groups=1 adds each
// group's count and first arrival); POST /reset -> clears them.
// stdout: {"port":P} once listening, and the final statistics on SIGINT/SIGTERM.
#include <csignal>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using sonae::bench::Json;
using sonae::bench::UsageError;

constexpr const char* kUsage = R"(usage: sonae-sink [options]
  --port P       listening port on 127.0.0.1; 0 = ephemeral (default 0)
  --threads T    threads serving requests (default 1)
  --status CODE  status of every non-control answer (default 200)
  --bind ADDR    listening address (default 127.0.0.1)
stdout: {"port":P} once listening, the final statistics on SIGINT/SIGTERM.
Control: GET /stats[?lateness_ms=D][&groups=1], POST /reset.
)";

constexpr std::uint64_t kMaxBody = 64 * 1024 * 1024;

// The digits right after the first occurrence of `marker` in `body`, if any.
std::optional<std::string_view> digits_after(std::string_view body, std::string_view marker) {
    const auto at = body.find(marker);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const auto begin = at + marker.size();
    auto end = begin;
    while (end < body.size() && body[end] >= '0' && body[end] <= '9') {
        ++end;
    }
    if (end == begin) {
        return std::nullopt;
    }
    return body.substr(begin, end - begin);
}

// What one request body contributes; computed outside the statistics lock.
struct Sample {
    std::int64_t received_ns = 0;
    std::optional<std::int64_t> latency_us;
    std::optional<std::string> key;
    std::optional<std::uint64_t> group;
    std::uint64_t alerts = 0;
};

Sample inspect(std::string_view body, std::int64_t now) {
    Sample s;
    s.received_ns = now;
    if (const auto ns = digits_after(body, "bench_ns=")) {
        std::int64_t sent = 0;
        const auto r = std::from_chars(ns->data(), ns->data() + ns->size(), sent);
        if (r.ec == std::errc{}) {
            s.latency_us = (now - sent) / 1000;
            if (const auto seq = digits_after(body, "bench_seq=")) {
                s.key = std::string(*seq);
            }
            if (const auto g = digits_after(body, "bench_group=")) {
                std::uint64_t group = 0;
                if (std::from_chars(g->data(), g->data() + g->size(), group).ec == std::errc{}) {
                    s.group = group;
                }
            }
        }
    }
    // Only bodies that can be Alertmanager webhooks pay for a JSON parse.
    if (body.find("\"alerts\"") != std::string_view::npos) {
        const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (j.is_object()) {
            const auto it = j.find("alerts");
            if (it != j.end() && it->is_array()) {
                s.alerts = it->size();
            }
        }
    }
    return s;
}

class Stats {
  public:
    void add(Sample s) {
        std::lock_guard lock(mu_);
        ++d_.received;
        if (d_.first_ns == 0) {
            d_.first_ns = s.received_ns;
        }
        d_.last_ns = s.received_ns;
        d_.alerts += s.alerts;
        if (s.latency_us) {
            ++d_.marked;
            d_.latency_us.push_back(*s.latency_us);
            // Every copy of a key after the first is a duplicate.
            if (s.key && ++d_.keys[std::move(*s.key)] > 1) {
                ++d_.duplicates;
            }
            if (s.group) {
                Group& g = d_.groups[*s.group];
                if (g.count++ == 0) {
                    g.first_ns = s.received_ns;
                    g.first_latency_us = *s.latency_us;
                }
            }
        }
    }

    void reset() {
        std::lock_guard lock(mu_);
        d_ = Data{};
    }

    Json snapshot(std::optional<double> lateness_ms, bool groups = false) {
        std::vector<std::int64_t> latency;
        Json out;
        {
            std::lock_guard lock(mu_);
            std::uint64_t once = 0;
            Json per_group = Json::object();
            for (const auto& [id, g] : d_.groups) {
                once += g.count == 1 ? 1U : 0U;
                if (groups) {
                    per_group[std::to_string(id)] = Json{{"n", g.count},
                                                         {"first_ns", g.first_ns},
                                                         {"first_latency_us", g.first_latency_us}};
                }
            }
            out["groups"] = d_.groups.size();
            out["groups_notified_once"] = once;
            if (groups) {
                out["group"] = std::move(per_group);
            }
            latency = d_.latency_us;
            out["received"] = d_.received;
            out["marked"] = d_.marked;
            out["keys"] = d_.keys.size();
            out["duplicates"] = d_.duplicates;
            out["alerts"] = d_.alerts;
            out["first_ns"] = d_.first_ns == 0 ? Json(nullptr) : Json(d_.first_ns);
            out["last_ns"] = d_.last_ns == 0 ? Json(nullptr) : Json(d_.last_ns);
        }
        // Sorted and summarised outside the lock: requests keep flowing meanwhile.
        out["latency_ms"] = sonae::bench::latency_summary_ms(latency);
        if (lateness_ms) {
            out["lateness_ms"] = lateness(latency, *lateness_ms);
        }
        return out;
    }

  private:
    struct Group {
        std::uint64_t count = 0;
        std::int64_t first_ns = 0;          // arrival of the group's first notification
        std::int64_t first_latency_us = 0;  // ... minus the bench_ns it carried
    };
    struct Data {
        std::uint64_t received = 0;  // every non-control request
        std::uint64_t marked = 0;    // ... with bench_ns
        std::uint64_t duplicates = 0;
        std::uint64_t alerts = 0;
        std::int64_t first_ns = 0;
        std::int64_t last_ns = 0;
        std::vector<std::int64_t> latency_us;
        std::unordered_map<std::string, std::uint32_t> keys;  // bench_seq -> copies received
        std::unordered_map<std::uint64_t, Group> groups;      // bench_group -> notifications
    };

    // Percentiles of (latency - due) over sorted latencies; negative means early.
    static Json lateness(const std::vector<std::int64_t>& sorted_us, double due_ms) {
        if (sorted_us.empty()) {
            return Json{{"p50", nullptr}, {"p99", nullptr}, {"max", nullptr}};
        }
        auto late = [&](std::int64_t us) {
            return sonae::bench::round3(static_cast<double>(us) / 1000.0 - due_ms);
        };
        return Json{{"p50", late(sonae::bench::percentile_sorted(sorted_us, 0.50))},
                    {"p99", late(sonae::bench::percentile_sorted(sorted_us, 0.99))},
                    {"max", late(sorted_us.back())}};
    }

    std::mutex mu_;
    Data d_;
};

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(const Request& req, unsigned status, std::string body) {
    Response res;
    res.version(req.version());
    res.result(status);
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    // 1xx, 204 and 304 answers cannot carry a body.
    if (status >= 200 && status != 204 && status != 304) {
        res.body() = std::move(body);
    }
    res.prepare_payload();
    return res;
}

// The value of `name` in a query string "a=1&b=2", if present.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
            return pair.substr(name.size() + 1);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

class Handler {
  public:
    Handler(Stats& stats, unsigned status) : stats_(stats), status_(status) {}

    Response handle(const Request& req) const {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        const std::string_view query =
            q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
        if (req.method() == http::verb::get && path == "/stats") {
            return stats(req, query);
        }
        if (req.method() == http::verb::post && path == "/reset") {
            stats_.reset();
            return json_response(req, 200, "{}");
        }
        stats_.add(inspect(req.body(), sonae::bench::now_ns()));
        return json_response(req, status_, "{}");
    }

  private:
    Response stats(const Request& req, std::string_view query) const {
        std::optional<double> lateness_ms;
        if (const auto d = query_param(query, "lateness_ms")) {
            try {
                lateness_ms = sonae::bench::parse_number<double>("lateness_ms", *d);
            } catch (const UsageError& e) {
                return json_response(req, 400, Json{{"error", e.what()}}.dump());
            }
        }
        const bool groups = query_param(query, "groups").value_or("0") == "1";
        return json_response(req, 200, stats_.snapshot(lateness_ms, groups).dump());
    }

    Stats& stats_;
    unsigned status_;
};

// One client connection: read a request, answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, const Handler& handler)
        : socket_(std::move(socket)), handler_(handler) {}

    void start() { read(); }

  private:
    void read() {
        parser_.emplace();
        parser_->body_limit(kMaxBody);
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(const beast::error_code& ec) {
        if (ec) {
            if (ec != http::error::end_of_stream && ec != asio::error::connection_reset &&
                ec != asio::error::operation_aborted) {
                std::cerr << "sonae-sink: read: " << ec.message() << "\n";
            }
            close();
            return;
        }
        response_ = handler_.handle(parser_->get());
        http::async_write(socket_, response_,
                          [self = shared_from_this()](const beast::error_code& wec, std::size_t) {
                              self->on_write(wec);
                          });
    }

    void on_write(const beast::error_code& ec) {
        if (ec || !response_.keep_alive()) {
            close();
            return;
        }
        read();
    }

    void close() {
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        socket_.close(ignored);
    }

    tcp::socket socket_;
    const Handler& handler_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response response_;
};

class Listener {
  public:
    Listener(asio::io_context& ioc, const tcp::endpoint& at, const Handler& handler)
        : acceptor_(ioc), handler_(handler) {
        acceptor_.open(at.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(at);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            if (ec) {
                std::cerr << "sonae-sink: accept: " << ec.message() << "\n";
            } else {
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<Session>(std::move(socket), handler_)->start();
            }
            accept();
        });
    }

  private:
    tcp::acceptor acceptor_;
    const Handler& handler_;
};

struct Config {
    std::uint16_t port = 0;
    unsigned threads = 1;
    unsigned status = 200;
    std::string bind = "127.0.0.1";
};

Config parse_config(int argc, char** argv) {
    const sonae::bench::Args args(argc, argv, {"port", "threads", "status", "bind"});
    if (args.help()) {
        std::cout << kUsage;
        std::exit(0);
    }
    Config c;
    c.port = args.number_or<std::uint16_t>("port", 0, 0, 65535);
    c.threads = args.number_or<unsigned>("threads", 1, 1, 256);
    c.status = args.number_or<unsigned>("status", 200, 100, 599);
    c.bind = args.string_or("bind", c.bind);
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    return sonae::bench::run_main(kUsage, [&] {
        const Config config = parse_config(argc, argv);
        beast::error_code ec;
        const auto address = asio::ip::make_address(config.bind, ec);
        if (ec) {
            throw UsageError("--bind: not an IP address: '" + config.bind + "'");
        }
        asio::io_context ioc(static_cast<int>(config.threads));
        Stats stats;
        const Handler handler(stats, config.status);
        Listener listener(ioc, tcp::endpoint(address, config.port), handler);
        listener.accept();

        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });

        sonae::bench::print_json(Json{{"port", listener.port()}});
        std::cerr << "sonae-sink: listening on " << config.bind << ":" << listener.port()
                  << " with " << config.threads << " thread(s)\n";
        {
            std::vector<std::jthread> extra;
            for (unsigned i = 1; i < config.threads; ++i) {
                extra.emplace_back([&] { ioc.run(); });
            }
            ioc.run();
        }
        sonae::bench::print_json(stats.snapshot(std::nullopt));
        return 0;
    });
}
