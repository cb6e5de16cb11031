// ConfirmingPublisher: one thread owns one broker connection and keeps many persistent,
// mandatory publishes in flight. Each submitted batch is answered once, when the broker has
// confirmed every message in it (or refused one, or the deadline passed). On a connection
// failure it reconnects with backoff and republishes everything not yet confirmed, so a batch
// survives a short broker restart or a network blip. Once a connection attempt has failed (no
// broker reachable) new batches fail at once, which the gateway turns into 503 (never a 202).
// A nack fails its batch and makes the publisher reconnect (the channel is suspect).
//
// Messages that opt in (Message::batch_type) are coalesced when the thread takes what was
// submitted meanwhile: one broker message carries up to `coalesce` of them (coalesce.hpp), from
// any number of batches. Its confirm settles each of them; a nack, a return, the deadline or a
// lost connection fail or republish each of them exactly as if it had been published alone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sonae/amqp/coalesce.hpp>
#include <sonae/amqp/connection.hpp>

namespace sonae::amqp {

struct PublishOutcome {
    bool ok = false;
    std::string error;  // when !ok: why (for logs; clients only learn "unavailable")
};

struct PublisherStats {
    std::uint64_t published = 0;  // broker messages (a combined one counts once)
    std::uint64_t confirmed = 0;  // broker messages confirmed
    std::uint64_t coalesced = 0;  // messages that travelled inside a combined broker message
    std::uint64_t failed_batches = 0;
    std::uint64_t reconnects = 0;
};

// What a request handler needs from the broker: submit a batch and be called back once, with
// the outcome. The gateway depends on this interface only, so tests drive it with a fake.
class Publisher {
  public:
    using Callback = std::function<void(PublishOutcome)>;
    virtual ~Publisher() = default;
    // `done` runs exactly once, on a thread of the publisher's choosing.
    virtual void submit(std::vector<Message> messages, Callback done) = 0;
    virtual bool connected() const = 0;
    virtual PublisherStats stats() const = 0;
};

class ConfirmingPublisher final : public Publisher {
  public:
    struct Options {
        Settings settings;
        std::chrono::milliseconds confirm_timeout{5000};
        std::size_t max_in_flight = 20000;  // broker messages
        CoalesceLimits coalesce;
        // Runs on every (re)connection before publishing, e.g. to declare the topology.
        std::function<void(Connection&)> on_connect;
    };
    explicit ConfirmingPublisher(Options options);
    ~ConfirmingPublisher();
    ConfirmingPublisher(const ConfirmingPublisher&) = delete;
    ConfirmingPublisher& operator=(const ConfirmingPublisher&) = delete;

    void start();
    void stop();  // fails whatever is still pending

    // `done` runs on the publisher thread.
    void submit(std::vector<Message> messages, Callback done) override;
    bool connected() const override { return connected_.load(); }
    PublisherStats stats() const override;

  private:
    struct Batch;
    struct Part {  // one submitted message
        std::shared_ptr<Batch> batch;
        std::size_t index = 0;
    };
    struct Wire {  // one broker message: one part, or several combined
        std::string id;
        std::vector<Part> parts;
        std::string returned;  // the broker returned it: why
    };

    void run();
    void connect_once();
    // Publishes the parts of these batches not confirmed yet, combining what may be.
    void publish(const std::deque<std::shared_ptr<Batch>>& batches);
    void handle_confirm(const Confirm& c);
    void finish(const std::shared_ptr<Batch>& batch, const std::string& error);
    void expire(std::chrono::steady_clock::time_point now);
    void on_connection_lost(const std::string& why);
    void wake();
    void wait_for_work(std::chrono::milliseconds timeout);

    Options options_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> available_{false};  // false once a connection attempt failed
    int wake_fd_ = -1;
    // Set by the submitter that wrote to wake_fd_, cleared by the thread before it takes the
    // submitted batches: submits meanwhile need no write (the thread will see their batches).
    std::atomic<bool> wake_pending_{false};

    mutable std::mutex mu_;  // guards submitted_ and stats_
    std::deque<std::shared_ptr<Batch>> submitted_;
    PublisherStats stats_;

    // Publisher thread only.
    std::unique_ptr<Connection> conn_;
    std::map<std::uint64_t, std::shared_ptr<Wire>> in_flight_;    // seq -> broker message
    std::map<std::string, std::shared_ptr<Wire>> by_message_id_;  // for returns
    std::deque<std::shared_ptr<Batch>> active_;  // batches with messages outstanding
    bool refused_ = false;  // a nack arrived: reconnect once the frames in hand are handled
    std::chrono::milliseconds backoff_{100};
    std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace sonae::amqp
