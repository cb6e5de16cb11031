// The gateway's component tests publish to this instead of a broker: it confirms every batch (or
// refuses it when told) and keeps what it was given.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <sonae/amqp/publisher.hpp>

namespace sonae::gateway::testing {

class FakePublisher final : public amqp::Publisher {
  public:
    void submit(std::vector<amqp::Message> messages, Callback done) override {
        std::lock_guard lock(mu_);
        if (refuse_) {
            done(amqp::PublishOutcome{false, "test: broker away"});
            return;
        }
        published_.insert(published_.end(), messages.begin(), messages.end());
        done(amqp::PublishOutcome{true, {}});
    }
    bool connected() const override { return connected_; }
    amqp::PublisherStats stats() const override { return {published_.size(), 0, 0, 0}; }
    // What was published since the last take.
    std::vector<amqp::Message> take() {
        std::lock_guard lock(mu_);
        return std::exchange(published_, {});
    }

    std::vector<amqp::Message> published_;
    bool refuse_ = false;
    bool connected_ = true;

  private:
    std::mutex mu_;
};

}  // namespace sonae::gateway::testing
