// An AMQP 0-9-1 connection over rabbitmq-c with one channel, used by exactly one thread.
// rabbitmq-c only services heartbeats inside its own calls, so every wait here is bounded and
// shorter than half the negotiated heartbeat. Any broker-side close (connection or channel)
// makes the object unusable: callers drop it and reconnect with backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <sonae/core/result.hpp>

namespace sonae::amqp {

struct Endpoint {
    std::string host = "127.0.0.1";
    int port = 5672;
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";
    bool tls = false;  // amqps://
};

struct Settings {
    std::vector<Endpoint> endpoints{Endpoint{}};  // a cluster: tried in turn
    int heartbeat_s = 30;
    std::chrono::milliseconds connect_timeout{3000};
    std::string prefix = "sonae";  // exchange and queue names start with it
    // amqps:// endpoints: TLS 1.2 or later, the broker's certificate verified against `ca_file`
    // (PEM; empty: the system's trust store) and its DNS name against the URL's host.
    std::string ca_file;

    // amqp://user:pass@host:port/vhost, several separated by commas; amqps:// for TLS (port
    // 5671 unless given).
    static core::Result<Settings> parse(const std::string& urls);
};

// The connection is unusable (network failure, broker closed the connection or our channel).
class ConnectionError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A publish was negatively confirmed, returned as unroutable, or not confirmed in time.
class PublishError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

using Headers = std::map<std::string, std::string>;

struct Message {
    std::string exchange;
    std::string routing_key;
    std::string body;
    std::string message_id;
    std::string content_type = "application/json";
    std::string type;
    Headers headers;
    bool persistent = true;
    bool mandatory = true;
    // Not empty: the message may travel inside one broker message of this type together with
    // others of the same exchange, routing key and batch_type; that message's body is the JSON
    // array of their bodies (coalesce.hpp). Empty: always published on its own.
    std::string batch_type;
};

struct Delivery {
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string consumer_tag;
    std::string exchange;
    std::string routing_key;
    std::string body;
    std::string message_id;
    std::string type;
    Headers headers;
};

struct Confirm {
    std::uint64_t seq = 0;
    bool multiple = false;
    bool ack = true;
};

struct Returned {
    std::string message_id;
    int reply_code = 0;
    std::string reply_text;
};

using Frame = std::variant<Delivery, Confirm, Returned>;

struct QueueSpec {
    std::string name;
    bool quorum = true;
    std::string dead_letter_exchange;
    std::string dead_letter_routing_key;
    std::int64_t delivery_limit = 0;  // quorum only; 0 = unlimited
    std::int64_t message_ttl_ms = 0;  // 0 = none
    std::int64_t max_length = 0;      // 0 = none; else publishes beyond it are nacked
};

class Connection {
  public:
    // Connects to the first endpoint that answers, starting at a rotating index so that
    // clients spread over a cluster. Throws ConnectionError.
    explicit Connection(const Settings& settings);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void declare_exchange(const std::string& name, const std::string& type = "direct");
    void declare_queue(const QueueSpec& spec);
    // Declares a queue and binds it on a channel of its own, so that the broker refusing it
    // leaves this connection usable: in a cluster, a classic durable queue whose node is down
    // answers 404 to every declaration until the node is back. Returns the broker's reason, or
    // nothing when the queue is there. Throws ConnectionError when the connection fails.
    std::optional<std::string> try_declare_queue(const QueueSpec& spec, const std::string& exchange,
                                                 const std::string& key);
    void bind_queue(const std::string& queue, const std::string& exchange, const std::string& key);
    void delete_queue(const std::string& name);
    void delete_exchange(const std::string& name);

    // Turns on publisher confirms; publish() then returns the message's sequence number.
    void enable_confirms();
    std::uint64_t publish(const Message& message);
    void set_prefetch(std::uint16_t count);
    std::string consume(const std::string& queue);

    // Waits up to `timeout` for the next delivery, confirm or return. Frames set aside by
    // publish_confirmed() come first. Throws ConnectionError.
    std::optional<Frame> next(std::chrono::milliseconds timeout);

    // Publishes and waits until every message is confirmed. Deliveries that arrive meanwhile are
    // kept for next(). Throws PublishError (nack, return, timeout) or ConnectionError. After a
    // nack the connection is unusable (the broker's state for the channel may be broken: in
    // RabbitMQ 3.10 a channel that started publishing to a quorum queue while its leader's node
    // stopped nacks every later publish); later calls that read throw ConnectionError.
    void publish_confirmed(const std::vector<Message>& messages, std::chrono::milliseconds timeout);

    void ack(std::uint64_t delivery_tag, bool multiple = false);
    void reject(std::uint64_t delivery_tag, bool requeue);

    int fd() const;
    // True when frames are already buffered in user space (poll() on fd() would not see them).
    bool has_buffered_frames() const;
    const Endpoint& endpoint() const { return endpoint_; }
    int heartbeat_s() const { return heartbeat_s_; }

  private:
    struct State;
    std::optional<Frame> read_frame(std::chrono::milliseconds timeout);
    void check_rpc(const char* what);
    void send_declare_queue(std::uint16_t channel, const QueueSpec& spec);
    [[noreturn]] void fail(const std::string& what);

    State* state_;  // amqp_connection_state_t, opaque here to keep <amqp.h> out of headers
    Endpoint endpoint_;
    int heartbeat_s_ = 0;
    bool confirms_ = false;
    std::uint64_t next_seq_ = 1;
    bool broken_ = false;
    std::deque<Frame> stash_;
};

}  // namespace sonae::amqp
