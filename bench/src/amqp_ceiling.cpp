// sonae-amqp-ceiling: the raw publish-confirm throughput of a RabbitMQ node, through the same
// sonae::amqp::Connection the services use. Publishes persistent, mandatory messages to a private
// queue keeping up to --window of them unconfirmed, and counts the confirms received during
// --duration. The ceiling any sonae pipeline stage built on publish confirms can reach.
#include <set>

#include <unistd.h>

#include <sonae/amqp/connection.hpp>

#include "common.hpp"

namespace {

namespace amqp = sonae::amqp;
using Clock = std::chrono::steady_clock;
using sonae::bench::Json;
using sonae::bench::UsageError;

constexpr const char* kUsage =
    R"(usage: sonae-amqp-ceiling --url amqp://USER:PASS@HOST:PORT/ [options]
  --url URL       broker                                            (required)
  --size BYTES    message body size (default 700)
  --duration S    measured seconds (default 5)
  --window W      maximum unconfirmed messages in flight (default 1000)
  --quorum 1|0    quorum (1) or classic (0) queue (default 1)
  --name NAME     copied into the output
  --peek QUEUE    instead: the body size of the first message waiting in QUEUE, which stays
                  there (consumed without an ack), as {"queue","size"}
Prints one JSON object on stdout; logs go to stderr.
)";

constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kPollSlice = std::chrono::milliseconds(50);

struct Config {
    std::string url;
    std::size_t size = 700;
    double duration_s = 5;
    std::size_t window = 1000;
    bool quorum = true;
    std::string name;
    std::string peek;  // queue to measure instead of publishing
};

// The size of what the services really publish (bench/run compares the ceiling at that size).
// The delivery is never acknowledged: closing the connection puts it back.
int peek(amqp::Connection& conn, const std::string& queue) {
    conn.set_prefetch(1);
    conn.consume(queue);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        auto frame = conn.next(kPollSlice);
        if (!frame)
            continue;
        if (const auto* d = std::get_if<amqp::Delivery>(&*frame)) {
            sonae::bench::print_json(Json{{"queue", queue}, {"size", d->body.size()}});
            return 0;
        }
    }
    throw std::runtime_error("no message in " + queue + " within 5 s");
}

Config parse_config(int argc, char** argv) {
    const sonae::bench::Args args(argc, argv,
                                  {"url", "size", "duration", "window", "quorum", "name", "peek"});
    if (args.help()) {
        std::cout << kUsage;
        std::exit(0);
    }
    Config c;
    c.url = args.required("url");
    c.size = args.number_or<std::size_t>("size", 700, 0, 128 * 1024 * 1024);
    c.duration_s = args.number_or<double>("duration", 5, 0.001, 1e6);
    c.window = args.number_or<std::size_t>("window", 1000, 1, 10'000'000);
    c.quorum = args.number_or<int>("quorum", 1, 0, 1) == 1;
    c.name = args.string_or("name", "");
    c.peek = args.string_or("peek", "");
    return c;
}

// Sequence numbers published and not yet confirmed. RabbitMQ may confirm out of order and
// with `multiple` covering every earlier sequence number.
class Unconfirmed {
  public:
    void add(std::uint64_t seq) { seqs_.insert(seq); }
    std::size_t size() const { return seqs_.size(); }

    // Removes what the confirm covers; returns how many messages that is.
    std::size_t settle(const amqp::Confirm& c) {
        if (!c.multiple) {
            return seqs_.erase(c.seq);
        }
        const auto end = seqs_.upper_bound(c.seq);
        const auto n = static_cast<std::size_t>(std::distance(seqs_.begin(), end));
        seqs_.erase(seqs_.begin(), end);
        return n;
    }

  private:
    std::set<std::uint64_t> seqs_;
};

struct Counts {
    std::uint64_t published = 0;
    std::uint64_t confirmed = 0;  // acked within the measured duration
    std::uint64_t nacked = 0;
    std::uint64_t returned = 0;
};

class Ceiling {
  public:
    Ceiling(const Config& config, amqp::Connection& conn)
        : config_(config), conn_(conn), name_("bench.ceiling." + std::to_string(::getpid())) {
        message_.exchange = name_;
        message_.routing_key = "k";
        message_.body.assign(config.size, 'x');
        message_.content_type = "application/octet-stream";
        message_.persistent = true;
        message_.mandatory = true;
    }

    const std::string& name() const { return name_; }

    void declare() {
        conn_.declare_exchange(name_, "direct");
        amqp::QueueSpec spec;
        spec.name = name_;
        spec.quorum = config_.quorum;
        conn_.declare_queue(spec);
        conn_.bind_queue(name_, name_, "k");
        conn_.enable_confirms();
    }

    // Publishes for the configured duration; returns the measured seconds.
    double run() {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(config_.duration_s));
        while (Clock::now() < end) {
            fill_window();
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
            poll(std::clamp(left, std::chrono::milliseconds(1), kPollSlice), true);
        }
        return sonae::bench::seconds_between(start, Clock::now());
    }

    // Waits (uncounted) for what is still in flight, so the queue is deleted quietly.
    void drain() {
        const auto deadline = Clock::now() + kDrainTimeout;
        while (unconfirmed_.size() > 0 && Clock::now() < deadline) {
            poll(kPollSlice, false);
        }
        if (unconfirmed_.size() > 0) {
            std::cerr << "sonae-amqp-ceiling: " << unconfirmed_.size()
                      << " messages still unconfirmed after the drain\n";
        }
    }

    const Counts& counts() const { return counts_; }

  private:
    void fill_window() {
        while (unconfirmed_.size() < config_.window) {
            message_.message_id = name_ + "." + std::to_string(counts_.published);
            unconfirmed_.add(conn_.publish(message_));
            ++counts_.published;
        }
    }

    // Handles one frame (waiting up to `timeout`) and then whatever else is already buffered.
    // rabbitmq-c reads incoming frames into user space during publish(), where poll() on the
    // socket does not see them: has_buffered_frames() tells.
    void poll(std::chrono::milliseconds timeout, bool counting) {
        auto frame = conn_.next(timeout);
        while (frame) {
            handle(*frame, counting);
            if (!conn_.has_buffered_frames()) {
                break;
            }
            frame = conn_.next(std::chrono::milliseconds(0));
        }
    }

    void handle(const amqp::Frame& frame, bool counting) {
        if (const auto* c = std::get_if<amqp::Confirm>(&frame)) {
            const std::size_t n = unconfirmed_.settle(*c);
            if (!c->ack) {
                counts_.nacked += n;
            } else if (counting) {
                counts_.confirmed += n;
            }
        } else if (std::holds_alternative<amqp::Returned>(frame)) {
            ++counts_.returned;
        }
    }

    const Config& config_;
    amqp::Connection& conn_;
    std::string name_;
    amqp::Message message_;
    Unconfirmed unconfirmed_;
    Counts counts_;
};

// Deletes the private queue and exchange, on a fresh connection if the first one broke.
void cleanup(const amqp::Settings& settings, amqp::Connection* conn, const std::string& name) {
    auto remove = [&](amqp::Connection& c) {
        c.delete_queue(name);
        c.delete_exchange(name);
    };
    try {
        if (conn != nullptr) {
            remove(*conn);
            return;
        }
    } catch (const amqp::ConnectionError& e) {
        std::cerr << "sonae-amqp-ceiling: cleanup: " << e.what() << "; retrying\n";
    }
    try {
        amqp::Connection fresh(settings);
        remove(fresh);
    } catch (const std::exception& e) {
        std::cerr << "sonae-amqp-ceiling: cleanup failed, delete " << name
                  << " by hand: " << e.what() << "\n";
    }
}

}  // namespace

int main(int argc, char** argv) {
    return sonae::bench::run_main(kUsage, [&] {
        const Config config = parse_config(argc, argv);
        auto parsed = amqp::Settings::parse(config.url);
        if (!parsed)
            throw UsageError("--url: " + parsed.error().message);
        const amqp::Settings settings = *parsed;
        auto conn = std::make_unique<amqp::Connection>(settings);
        if (!config.peek.empty())
            return peek(*conn, config.peek);
        Ceiling ceiling(config, *conn);
        double duration_s = 0;
        try {
            ceiling.declare();
            std::cerr << "sonae-amqp-ceiling: publishing " << config.size << "-byte messages to "
                      << (config.quorum ? "quorum" : "classic") << " queue " << ceiling.name()
                      << " for " << config.duration_s << " s, window " << config.window << "\n";
            duration_s = ceiling.run();
            ceiling.drain();
        } catch (const amqp::ConnectionError&) {
            conn.reset();  // unusable: cleanup() opens a new one
            cleanup(settings, nullptr, ceiling.name());
            throw;
        }
        cleanup(settings, conn.get(), ceiling.name());

        const Counts& n = ceiling.counts();
        if (n.nacked > 0 || n.returned > 0) {
            std::cerr << "sonae-amqp-ceiling: " << n.nacked << " nacked, " << n.returned
                      << " returned\n";
        }
        sonae::bench::print_json(Json{
            {"name", config.name},
            {"size", config.size},
            {"window", config.window},
            {"quorum", config.quorum},
            {"duration_s", sonae::bench::round3(duration_s)},
            {"confirmed", n.confirmed},
            {"rate_per_s", sonae::bench::round3(static_cast<double>(n.confirmed) / duration_s)},
            {"published", n.published},
            {"nacked", n.nacked},
            {"returned", n.returned},
        });
        return 0;
    });
}
