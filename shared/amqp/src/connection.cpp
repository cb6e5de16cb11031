#include <atomic>
#include <string_view>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/ssl.h>

#include <sonae/amqp/connection.hpp>

namespace sonae::amqp {
namespace {

constexpr amqp_channel_t kChannel = 1;
// Short-lived, for declarations the broker may refuse (a refusal closes the channel).
constexpr amqp_channel_t kSideChannel = 2;

amqp_bytes_t bytes(const std::string& s) {
    return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};  // rabbitmq-c never writes
}

std::string to_string(amqp_bytes_t b) {
    if (b.bytes == nullptr) {
        return {};
    }
    return {static_cast<const char*>(b.bytes), b.len};
}

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

std::string describe(const amqp_rpc_reply_t& r) {
    switch (r.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return "ok";
        case AMQP_RESPONSE_NONE:
            return "missing RPC reply";
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return amqp_error_string2(r.library_error);
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
                const auto* m = static_cast<const amqp_connection_close_t*>(r.reply.decoded);
                return "connection closed by broker: " + std::to_string(m->reply_code) + " " +
                       to_string(m->reply_text);
            }
            if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
                const auto* m = static_cast<const amqp_channel_close_t*>(r.reply.decoded);
                return "channel closed by broker: " + std::to_string(m->reply_code) + " " +
                       to_string(m->reply_text);
            }
            return "server exception";
    }
    return "unknown";
}

Headers read_headers(const amqp_basic_properties_t& p) {
    Headers out;
    if ((p._flags & AMQP_BASIC_HEADERS_FLAG) == 0) {
        return out;
    }
    for (int i = 0; i < p.headers.num_entries; ++i) {
        const amqp_table_entry_t& e = p.headers.entries[i];
        const std::string key = to_string(e.key);
        switch (e.value.kind) {
            case AMQP_FIELD_KIND_UTF8:
            case AMQP_FIELD_KIND_BYTES:
                out[key] = to_string(e.value.value.bytes);
                break;
            case AMQP_FIELD_KIND_I64:
                out[key] = std::to_string(e.value.value.i64);
                break;
            case AMQP_FIELD_KIND_I32:
                out[key] = std::to_string(e.value.value.i32);
                break;
            default:
                break;
        }
    }
    return out;
}

std::atomic<std::size_t> g_endpoint_rotation{0};

// amqps://: the broker's certificate and host name are verified (rabbitmq-c's defaults, kept
// explicit), TLS 1.2 or later. Returns what went wrong, or nothing. rabbitmq-c reads one TLS
// record at a time into its own buffer, so has_buffered_frames() stays true to poll() on fd().
std::string configure_tls(amqp_socket_t* socket, const std::string& ca_file) {
    amqp_ssl_socket_set_verify_peer(socket, 1);
    amqp_ssl_socket_set_verify_hostname(socket, 1);
    if (amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
        return "TLS 1.2 is not available";
    }
    if (!ca_file.empty()) {
        if (amqp_ssl_socket_set_cacert(socket, ca_file.c_str()) != AMQP_STATUS_OK) {
            return "cannot load CA certificates from " + ca_file;
        }
    } else if (SSL_CTX_set_default_verify_paths(
                   static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket))) != 1) {
        return "cannot load the system's CA certificates";
    }
    return {};
}

}  // namespace

struct Connection::State {
    amqp_connection_state_t conn = nullptr;
};

core::Result<Settings> Settings::parse(const std::string& urls) {
    Settings s;
    s.endpoints.clear();
    std::size_t pos = 0;
    while (pos <= urls.size()) {
        std::size_t end = urls.find(',', pos);
        if (end == std::string::npos)
            end = urls.size();
        std::string one = urls.substr(pos, end - pos);
        pos = end + 1;
        if (one.empty())
            continue;
        amqp_connection_info info{};
        std::string buffer = one;  // amqp_parse_url writes into its argument
        if (amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK) {
            return core::Error::invalid_field("SONAE_AMQP_URL", "invalid AMQP URL: " + one);
        }
        // "amqp://host/" means the empty vhost by the AMQP URI spec, but everybody writing it
        // means the default one.
        std::string vhost = info.vhost != nullptr && *info.vhost != '\0' ? info.vhost : "/";
        s.endpoints.push_back(
            Endpoint{info.host, info.port, info.user, info.password, vhost, info.ssl != 0});
    }
    if (s.endpoints.empty()) {
        return core::Error::invalid_field("SONAE_AMQP_URL", "no AMQP URL given");
    }
    return s;
}

Connection::Connection(const Settings& settings) : state_(new State) {
    heartbeat_s_ = settings.heartbeat_s;
    std::string errors;
    const std::size_t n = settings.endpoints.size();
    const std::size_t start = n == 0 ? 0 : g_endpoint_rotation.fetch_add(1) % n;
    for (std::size_t k = 0; k < n; ++k) {
        const Endpoint& ep = settings.endpoints[(start + k) % n];
        amqp_connection_state_t conn = amqp_new_connection();
        amqp_socket_t* socket = ep.tls ? amqp_ssl_socket_new(conn) : amqp_tcp_socket_new(conn);
        if (socket != nullptr && ep.tls) {
            if (const std::string problem = configure_tls(socket, settings.ca_file);
                !problem.empty()) {
                amqp_destroy_connection(conn);
                errors += " " + ep.host + ":" + std::to_string(ep.port) + ": " + problem + ";";
                continue;
            }
        }
        timeval tv = to_timeval(settings.connect_timeout);
        const int open_rc = socket == nullptr
                                ? AMQP_STATUS_NO_MEMORY
                                : amqp_socket_open_noblock(socket, ep.host.c_str(), ep.port, &tv);
        if (open_rc != AMQP_STATUS_OK) {
            amqp_destroy_connection(conn);
            // For amqps:// the reason says whether TLS failed (an untrusted certificate, a
            // name that does not match) or the connection did.
            errors += " " + ep.host + ":" + std::to_string(ep.port) + ": cannot connect" +
                      (ep.tls ? std::string(" (TLS): ") + amqp_error_string2(open_rc) : "") + ";";
            continue;
        }
        amqp_rpc_reply_t r =
            amqp_login(conn, ep.vhost.c_str(), 0, 131072, settings.heartbeat_s,
                       AMQP_SASL_METHOD_PLAIN, ep.user.c_str(), ep.password.c_str());
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            errors +=
                " " + ep.host + ":" + std::to_string(ep.port) + ": login: " + describe(r) + ";";
            amqp_destroy_connection(conn);
            continue;
        }
        amqp_channel_open(conn, kChannel);
        r = amqp_get_rpc_reply(conn);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            errors += " " + ep.host + ": channel.open: " + describe(r) + ";";
            amqp_destroy_connection(conn);
            continue;
        }
        state_->conn = conn;
        endpoint_ = ep;
        return;
    }
    delete state_;
    state_ = nullptr;
    throw ConnectionError("amqp: no broker reachable:" + errors);
}

Connection::~Connection() {
    if (state_ == nullptr) {
        return;
    }
    if (!broken_) {
        amqp_channel_close(state_->conn, kChannel, AMQP_REPLY_SUCCESS);
        amqp_connection_close(state_->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(state_->conn);
    delete state_;
}

void Connection::fail(const std::string& what) {
    broken_ = true;
    throw ConnectionError("amqp " + endpoint_.host + ":" + std::to_string(endpoint_.port) + ": " +
                          what);
}

void Connection::check_rpc(const char* what) {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(state_->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fail(std::string(what) + ": " + describe(r));
    }
}

void Connection::declare_exchange(const std::string& name, const std::string& type) {
    amqp_exchange_declare(state_->conn, kChannel, bytes(name), bytes(type), 0, 1, 0, 0,
                          amqp_empty_table);
    check_rpc("exchange.declare");
}

void Connection::declare_queue(const QueueSpec& spec) {
    send_declare_queue(kChannel, spec);
    check_rpc("queue.declare");
}

std::optional<std::string> Connection::try_declare_queue(const QueueSpec& spec,
                                                         const std::string& exchange,
                                                         const std::string& key) {
    amqp_channel_open(state_->conn, kSideChannel);
    check_rpc("channel.open");
    // A refusal closes the side channel only: confirm the close and report the reason.
    auto refused = [&](const char* what) -> std::optional<std::string> {
        const amqp_rpc_reply_t r = amqp_get_rpc_reply(state_->conn);
        if (r.reply_type == AMQP_RESPONSE_NORMAL)
            return std::nullopt;
        if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
            r.reply.id != AMQP_CHANNEL_CLOSE_METHOD) {
            fail(std::string(what) + ": " + describe(r));
        }
        std::string why = std::string(what) + ": " + describe(r);
        amqp_channel_close_ok_t ok{};
        if (amqp_send_method(state_->conn, kSideChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) !=
            AMQP_STATUS_OK) {
            fail("channel.close-ok failed after " + why);
        }
        return why;
    };
    send_declare_queue(kSideChannel, spec);
    if (auto why = refused("queue.declare"))
        return why;
    amqp_queue_bind(state_->conn, kSideChannel, bytes(spec.name), bytes(exchange), bytes(key),
                    amqp_empty_table);
    if (auto why = refused("queue.bind"))
        return why;
    const amqp_rpc_reply_t r = amqp_channel_close(state_->conn, kSideChannel, AMQP_REPLY_SUCCESS);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        fail("channel.close: " + describe(r));
    return std::nullopt;
}

void Connection::send_declare_queue(std::uint16_t channel, const QueueSpec& spec) {
    std::vector<amqp_table_entry_t> entries;
    auto add_str = [&](const char* key, const std::string& value) {
        amqp_table_entry_t e{};
        e.key = amqp_cstring_bytes(key);
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes = bytes(value);
        entries.push_back(e);
    };
    auto add_int = [&](const char* key, std::int64_t value) {
        amqp_table_entry_t e{};
        e.key = amqp_cstring_bytes(key);
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = value;
        entries.push_back(e);
    };
    static const std::string kQuorum = "quorum";
    static const std::string kAtLeastOnce = "at-least-once";
    static const std::string kRejectPublish = "reject-publish";
    if (spec.quorum) {
        add_str("x-queue-type", kQuorum);
        if (spec.delivery_limit > 0)
            add_int("x-delivery-limit", spec.delivery_limit);
        if (!spec.dead_letter_exchange.empty()) {
            // Quorum queues dead-letter at most once unless told otherwise.
            add_str("x-dead-letter-strategy", kAtLeastOnce);
            add_str("x-overflow", kRejectPublish);
        }
    }
    if (!spec.dead_letter_exchange.empty())
        add_str("x-dead-letter-exchange", spec.dead_letter_exchange);
    if (!spec.dead_letter_routing_key.empty()) {
        add_str("x-dead-letter-routing-key", spec.dead_letter_routing_key);
    }
    if (spec.message_ttl_ms > 0)
        add_int("x-message-ttl", spec.message_ttl_ms);
    if (spec.max_length > 0) {
        add_int("x-max-length", spec.max_length);
        if (spec.dead_letter_exchange.empty() || !spec.quorum)
            add_str("x-overflow", kRejectPublish);
    }
    amqp_table_t args{static_cast<int>(entries.size()), entries.data()};
    amqp_queue_declare(state_->conn, channel, bytes(spec.name), 0, 1, 0, 0, args);
}

void Connection::bind_queue(const std::string& queue, const std::string& exchange,
                            const std::string& key) {
    amqp_queue_bind(state_->conn, kChannel, bytes(queue), bytes(exchange), bytes(key),
                    amqp_empty_table);
    check_rpc("queue.bind");
}

void Connection::delete_queue(const std::string& name) {
    amqp_queue_delete(state_->conn, kChannel, bytes(name), 0, 0);
    check_rpc("queue.delete");
}

void Connection::delete_exchange(const std::string& name) {
    amqp_exchange_delete(state_->conn, kChannel, bytes(name), 0);
    check_rpc("exchange.delete");
}

void Connection::enable_confirms() {
    amqp_confirm_select(state_->conn, kChannel);
    check_rpc("confirm.select");
    confirms_ = true;
    next_seq_ = 1;
}

std::uint64_t Connection::publish(const Message& m) {
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = m.persistent ? AMQP_DELIVERY_PERSISTENT : AMQP_DELIVERY_NONPERSISTENT;
    if (!m.content_type.empty()) {
        props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
        props.content_type = bytes(m.content_type);
    }
    if (!m.message_id.empty()) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = bytes(m.message_id);
    }
    if (!m.type.empty()) {
        props._flags |= AMQP_BASIC_TYPE_FLAG;
        props.type = bytes(m.type);
    }
    std::vector<amqp_table_entry_t> entries;
    if (!m.headers.empty()) {
        for (const auto& [k, v] : m.headers) {
            amqp_table_entry_t e{};
            e.key = bytes(k);
            e.value.kind = AMQP_FIELD_KIND_UTF8;
            e.value.value.bytes = bytes(v);
            entries.push_back(e);
        }
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
    }
    const int rc =
        amqp_basic_publish(state_->conn, kChannel, bytes(m.exchange), bytes(m.routing_key),
                           m.mandatory ? 1 : 0, 0, &props, bytes(m.body));
    if (rc != AMQP_STATUS_OK) {
        fail(std::string("basic.publish: ") + amqp_error_string2(rc));
    }
    return confirms_ ? next_seq_++ : 0;
}

void Connection::set_prefetch(std::uint16_t count) {
    amqp_basic_qos(state_->conn, kChannel, 0, count, 0);
    check_rpc("basic.qos");
}

std::string Connection::consume(const std::string& queue) {
    amqp_basic_consume_ok_t* ok = amqp_basic_consume(state_->conn, kChannel, bytes(queue),
                                                     amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check_rpc("basic.consume");
    return ok != nullptr ? to_string(ok->consumer_tag) : std::string{};
}

void Connection::ack(std::uint64_t delivery_tag, bool multiple) {
    const int rc = amqp_basic_ack(state_->conn, kChannel, delivery_tag, multiple ? 1 : 0);
    if (rc != AMQP_STATUS_OK) {
        fail(std::string("basic.ack: ") + amqp_error_string2(rc));
    }
}

void Connection::reject(std::uint64_t delivery_tag, bool requeue) {
    const int rc = amqp_basic_reject(state_->conn, kChannel, delivery_tag, requeue ? 1 : 0);
    if (rc != AMQP_STATUS_OK) {
        fail(std::string("basic.reject: ") + amqp_error_string2(rc));
    }
}

int Connection::fd() const {
    return amqp_get_sockfd(state_->conn);
}

bool Connection::has_buffered_frames() const {
    return !stash_.empty() || amqp_frames_enqueued(state_->conn) != 0 ||
           amqp_data_in_buffer(state_->conn) != 0;
}

std::optional<Frame> Connection::next(std::chrono::milliseconds timeout) {
    if (!stash_.empty()) {
        Frame f = std::move(stash_.front());
        stash_.pop_front();
        return f;
    }
    return read_frame(timeout);
}

std::optional<Frame> Connection::read_frame(std::chrono::milliseconds timeout) {
    if (broken_) {
        fail("connection already failed");
    }
    if (heartbeat_s_ > 0) {
        timeout = std::min(timeout, std::chrono::milliseconds(heartbeat_s_ * 1000 / 2));
    }
    amqp_maybe_release_buffers(state_->conn);
    amqp_frame_t frame{};
    timeval tv = to_timeval(timeout);
    const int rc = amqp_simple_wait_frame_noblock(state_->conn, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) {
        return std::nullopt;
    }
    if (rc != AMQP_STATUS_OK) {
        fail(std::string("wait_frame: ") + amqp_error_string2(rc));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) {
        return std::nullopt;  // heartbeats are handled inside rabbitmq-c
    }
    switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            const auto* m = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
            return Confirm{m->delivery_tag, m->multiple != 0, true};
        }
        case AMQP_BASIC_NACK_METHOD: {
            const auto* m = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
            return Confirm{m->delivery_tag, m->multiple != 0, false};
        }
        case AMQP_BASIC_DELIVER_METHOD: {
            const auto* m = static_cast<const amqp_basic_deliver_t*>(frame.payload.method.decoded);
            Delivery d;
            d.delivery_tag = m->delivery_tag;
            d.redelivered = m->redelivered != 0;
            d.consumer_tag = to_string(m->consumer_tag);
            d.exchange = to_string(m->exchange);
            d.routing_key = to_string(m->routing_key);
            amqp_message_t msg{};
            amqp_rpc_reply_t r = amqp_read_message(state_->conn, frame.channel, &msg, 0);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                fail("read delivery: " + describe(r));
            }
            d.body = to_string(msg.body);
            if ((msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) {
                d.message_id = to_string(msg.properties.message_id);
            }
            if ((msg.properties._flags & AMQP_BASIC_TYPE_FLAG) != 0) {
                d.type = to_string(msg.properties.type);
            }
            d.headers = read_headers(msg.properties);
            amqp_destroy_message(&msg);
            return d;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            const auto* m = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
            Returned ret{{}, m->reply_code, to_string(m->reply_text)};
            amqp_message_t msg{};
            amqp_rpc_reply_t r = amqp_read_message(state_->conn, frame.channel, &msg, 0);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                fail("read returned message: " + describe(r));
            }
            if ((msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) {
                ret.message_id = to_string(msg.properties.message_id);
            }
            amqp_destroy_message(&msg);
            return ret;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
            const auto* m = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
            amqp_channel_close_ok_t ok{};
            amqp_send_method(state_->conn, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
            fail("channel closed by broker: " + std::to_string(m->reply_code) + " " +
                 to_string(m->reply_text));
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
            const auto* m =
                static_cast<const amqp_connection_close_t*>(frame.payload.method.decoded);
            amqp_connection_close_ok_t ok{};
            amqp_send_method(state_->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
            fail("connection closed by broker: " + std::to_string(m->reply_code) + " " +
                 to_string(m->reply_text));
        }
        case AMQP_BASIC_CANCEL_METHOD:
            fail("consumer cancelled by broker");
        default:
            return std::nullopt;
    }
}

void Connection::publish_confirmed(const std::vector<Message>& messages,
                                   std::chrono::milliseconds timeout) {
    if (messages.empty()) {
        return;
    }
    if (!confirms_) {
        enable_confirms();
    }
    std::uint64_t last = 0;
    for (const auto& m : messages) {
        last = publish(m);
    }
    const std::uint64_t first = last + 1 - messages.size();
    std::uint64_t confirmed_upto = first - 1;  // everything <= this is confirmed
    std::vector<bool> done(messages.size(), false);
    std::size_t remaining = messages.size();
    std::string returned;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (remaining > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            throw PublishError("publish not confirmed within " + std::to_string(timeout.count()) +
                               " ms");
        }
        std::optional<Frame> f = read_frame(left);
        if (!f)
            continue;
        if (auto* c = std::get_if<Confirm>(&*f)) {
            if (!c->ack) {
                // The channel is suspect (see ConfirmingPublisher): callers reconnect.
                broken_ = true;
                throw PublishError("broker refused (nack) a message");
            }
            const std::uint64_t lo = c->multiple ? confirmed_upto + 1 : c->seq;
            for (std::uint64_t s = std::max(lo, first); s <= c->seq && s <= last; ++s) {
                if (!done[s - first]) {
                    done[s - first] = true;
                    --remaining;
                }
            }
            if (c->multiple)
                confirmed_upto = std::max(confirmed_upto, c->seq);
        } else if (auto* r = std::get_if<Returned>(&*f)) {
            returned = r->reply_text;
        } else {
            stash_.push_back(std::move(*f));
        }
    }
    if (!returned.empty()) {
        throw PublishError("message returned as unroutable: " + returned);
    }
}

}  // namespace sonae::amqp
