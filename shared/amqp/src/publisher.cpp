#include <random>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sonae/amqp/publisher.hpp>

namespace sonae::amqp {

struct ConfirmingPublisher::Batch {
    std::vector<Message> messages;
    std::vector<bool> confirmed;
    std::size_t outstanding = 0;
    Callback done;
    std::string error;
    bool finished = false;
    std::chrono::steady_clock::time_point deadline;
};

ConfirmingPublisher::ConfirmingPublisher(Options options) : options_(std::move(options)) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        throw std::runtime_error("eventfd failed");
    }
}

ConfirmingPublisher::~ConfirmingPublisher() {
    stop();
    ::close(wake_fd_);
}

void ConfirmingPublisher::start() {
    if (running_.exchange(true)) {
        return;
    }
    thread_ = std::thread([this] { run(); });
}

void ConfirmingPublisher::stop() {
    if (!running_.exchange(false)) {
        return;
    }
    wake();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void ConfirmingPublisher::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

PublisherStats ConfirmingPublisher::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void ConfirmingPublisher::submit(std::vector<Message> messages, Callback done) {
    if (messages.empty()) {
        done(PublishOutcome{true, {}});
        return;
    }
    // Fail fast only when the broker is known to be unreachable (the last connection attempt
    // failed). Right after a dropped connection, before the first reconnect attempt, batches
    // queue: a network blip must not turn into 503s.
    if (!available_.load() || !running_.load()) {
        {
            std::lock_guard lock(mu_);
            ++stats_.failed_batches;
        }
        done(PublishOutcome{false, "broker unavailable"});
        return;
    }
    auto batch = std::make_shared<Batch>();
    batch->messages = std::move(messages);
    batch->confirmed.assign(batch->messages.size(), false);
    batch->done = std::move(done);
    batch->deadline = std::chrono::steady_clock::now() + options_.confirm_timeout;
    {
        std::lock_guard lock(mu_);
        submitted_.push_back(std::move(batch));
    }
    // One write per wake-up, not per submit: while a write is pending, the thread has not
    // taken the submitted batches yet and will take this one with them.
    if (!wake_pending_.exchange(true))
        wake();
}

void ConfirmingPublisher::finish(const std::shared_ptr<Batch>& batch, const std::string& error) {
    if (batch->finished) {
        return;
    }
    batch->finished = true;
    if (!error.empty()) {
        std::lock_guard lock(mu_);
        ++stats_.failed_batches;
    }
    batch->done(PublishOutcome{error.empty(), error});
    batch->done = nullptr;
}

void ConfirmingPublisher::publish(const std::deque<std::shared_ptr<Batch>>& batches) {
    std::vector<Part> parts;
    std::vector<const Message*> messages;
    for (const auto& batch : batches) {
        if (batch->finished)
            continue;
        for (std::size_t i = 0; i < batch->messages.size(); ++i) {
            if (!batch->confirmed[i]) {
                parts.push_back(Part{batch, i});
                messages.push_back(&batch->messages[i]);
            }
        }
    }
    std::uint64_t published = 0;
    std::uint64_t coalesced = 0;
    auto count = [&] {
        std::lock_guard lock(mu_);
        stats_.published += published;
        stats_.coalesced += coalesced;
    };
    try {
        for (const auto& group : coalesce_groups(messages, options_.coalesce)) {
            auto wire = std::make_shared<Wire>();
            std::uint64_t seq = 0;
            if (group.size() == 1) {
                const Message& m = *messages[group.front()];
                wire->id = m.message_id;
                seq = conn_->publish(m);
            } else {
                std::vector<const Message*> combined;
                combined.reserve(group.size());
                for (std::size_t i : group)
                    combined.push_back(messages[i]);
                wire->id = combined.front()->message_id + "+" + std::to_string(group.size() - 1);
                seq = conn_->publish(combine(combined, wire->id));
                coalesced += group.size();
            }
            for (std::size_t i : group)
                wire->parts.push_back(parts[i]);
            if (!wire->id.empty())
                by_message_id_[wire->id] = wire;
            in_flight_[seq] = std::move(wire);
            ++published;
        }
    } catch (...) {
        count();
        throw;
    }
    count();
}

void ConfirmingPublisher::handle_confirm(const Confirm& c) {
    // A combined message's confirm (or nack) is each of its parts'.
    auto settle = [&](const std::shared_ptr<Wire>& wire) {
        if (auto it = by_message_id_.find(wire->id);
            it != by_message_id_.end() && it->second == wire)
            by_message_id_.erase(it);
        for (const Part& p : wire->parts) {
            const auto& batch = p.batch;
            if (batch->finished || batch->confirmed[p.index])
                continue;
            if (!c.ack) {
                finish(batch, "broker refused the message (nack)");
                refused_ = true;
                continue;
            }
            if (!wire->returned.empty())
                batch->error = "unroutable: " + wire->returned;
            batch->confirmed[p.index] = true;
            if (--batch->outstanding == 0)
                finish(batch, batch->error);
        }
    };
    std::uint64_t settled = 0;
    if (c.multiple) {
        auto end = in_flight_.upper_bound(c.seq);
        for (auto it = in_flight_.begin(); it != end; ++it) {
            settle(it->second);
            ++settled;
        }
        in_flight_.erase(in_flight_.begin(), end);
    } else if (auto it = in_flight_.find(c.seq); it != in_flight_.end()) {
        settle(it->second);
        in_flight_.erase(it);
        settled = 1;
    }
    std::lock_guard lock(mu_);
    stats_.confirmed += settled;
}

void ConfirmingPublisher::expire(std::chrono::steady_clock::time_point now) {
    while (!active_.empty() && (active_.front()->finished || active_.front()->deadline <= now)) {
        finish(active_.front(), "not confirmed by the broker in time");
        active_.pop_front();
    }
}

void ConfirmingPublisher::on_connection_lost(const std::string& why) {
    spdlog::warn("amqp publisher: connection lost: {}", why);
    conn_.reset();
    connected_ = false;
    in_flight_.clear();  // unconfirmed messages stay in their batches and are republished
    by_message_id_.clear();
    std::lock_guard lock(mu_);
    ++stats_.reconnects;
}

void ConfirmingPublisher::connect_once() {
    try {
        conn_ = std::make_unique<Connection>(options_.settings);
        if (options_.on_connect) {
            options_.on_connect(*conn_);
        }
        conn_->enable_confirms();
        connected_ = true;
        available_ = true;
        backoff_ = std::chrono::milliseconds(100);
        spdlog::info("amqp publisher: connected to {}:{}", conn_->endpoint().host,
                     conn_->endpoint().port);
        // Republish, in order, whatever the previous connection left unconfirmed.
        publish(active_);
    } catch (const std::exception& e) {
        conn_.reset();
        connected_ = false;
        available_ = false;
        // Nothing published yet: tell those clients at once instead of at their deadline.
        std::deque<std::shared_ptr<Batch>> waiting;
        {
            std::lock_guard lock(mu_);
            waiting.swap(submitted_);
        }
        for (auto& b : waiting)
            finish(b, "broker unavailable");
        static thread_local std::minstd_rand rng(std::random_device{}());
        const auto jitter =
            std::chrono::milliseconds(rng() % static_cast<unsigned>(backoff_.count() / 2 + 1));
        next_attempt_ = std::chrono::steady_clock::now() + backoff_ + jitter;
        spdlog::warn("amqp publisher: {} (retrying in {} ms)", e.what(),
                     (backoff_ + jitter).count());
        backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    }
}

void ConfirmingPublisher::wait_for_work(std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {conn_ ? conn_->fd() : -1, POLLIN, 0}};
    const int n = conn_ ? 2 : 1;
    if (::poll(fds, static_cast<nfds_t>(n), static_cast<int>(timeout.count())) > 0 &&
        (fds[0].revents & POLLIN) != 0) {
        std::uint64_t v = 0;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
    }
}

void ConfirmingPublisher::run() {
    while (running_.load()) {
        const auto now = std::chrono::steady_clock::now();
        if (!conn_ && now >= next_attempt_) {
            connect_once();
        }
        try {
            // Take new batches while there is room in flight.
            if (conn_) {
                std::deque<std::shared_ptr<Batch>> take;
                wake_pending_.exchange(false);  // from here on, a submit writes to wake_fd_
                {
                    std::lock_guard lock(mu_);
                    while (!submitted_.empty() && in_flight_.size() < options_.max_in_flight) {
                        take.push_back(std::move(submitted_.front()));
                        submitted_.pop_front();
                    }
                }
                // All of them become active before any is published: if the connection fails
                // halfway, the rest are republished after the reconnect, never forgotten.
                for (auto& batch : take) {
                    batch->outstanding = batch->messages.size();
                    active_.push_back(batch);
                }
                publish(take);
            }
            if (conn_) {
                if (!conn_->has_buffered_frames()) {
                    wait_for_work(std::chrono::milliseconds(50));
                }
                // Drain whatever is readable without blocking.
                for (int i = 0; i < 4096; ++i) {
                    auto f = conn_->next(std::chrono::milliseconds(0));
                    if (!f)
                        break;
                    if (auto* c = std::get_if<Confirm>(&*f)) {
                        handle_confirm(*c);
                    } else if (auto* r = std::get_if<Returned>(&*f)) {
                        if (auto it = by_message_id_.find(r->message_id);
                            it != by_message_id_.end()) {
                            it->second->returned = r->reply_text;
                        }
                    }
                }
                // A nack is the broker's internal failure, never flow control here (no queue has a
                // length limit). A quorum queue's publisher state on a channel can stay broken
                // after its leader's node went away (RabbitMQ 3.10 then nacks every publish on
                // that channel): a fresh connection, maybe to another node, gets a fresh one.
                if (refused_) {
                    refused_ = false;
                    on_connection_lost("the broker refused a message (nack): reconnecting");
                    next_attempt_ =
                        std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
                }
            } else {
                wait_for_work(std::chrono::milliseconds(50));
            }
        } catch (const ConnectionError& e) {
            refused_ = false;
            on_connection_lost(e.what());
            next_attempt_ = std::chrono::steady_clock::now();
        }
        const auto after = std::chrono::steady_clock::now();
        expire(after);
        // Batches that could not even be published before their deadline fail too.
        std::deque<std::shared_ptr<Batch>> stale;
        {
            std::lock_guard lock(mu_);
            while (!submitted_.empty() && submitted_.front()->deadline <= after) {
                stale.push_back(std::move(submitted_.front()));
                submitted_.pop_front();
            }
        }
        for (auto& b : stale) {
            finish(b, "broker unavailable");
        }
    }
    // Shutting down: everything still pending fails (the client may retry; nothing is lost).
    for (auto& b : active_) {
        finish(b, "shutting down");
    }
    active_.clear();
    std::deque<std::shared_ptr<Batch>> rest;
    {
        std::lock_guard lock(mu_);
        rest.swap(submitted_);
    }
    for (auto& b : rest) {
        finish(b, "shutting down");
    }
    conn_.reset();
    connected_ = false;
}

}  // namespace sonae::amqp
