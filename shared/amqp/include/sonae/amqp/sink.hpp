// Where a service's outgoing messages go once its state is committed: the broker, through the
// consumer's own connection (ConnectionSink), or a recorder in component tests.
#pragma once

#include <chrono>
#include <vector>

#include <sonae/amqp/coalesce.hpp>
#include <sonae/amqp/connection.hpp>

namespace sonae::amqp {

class MessageSink {
  public:
    virtual ~MessageSink() = default;
    // Returns once the broker confirmed every message; throws PublishError or ConnectionError.
    virtual void publish_confirmed(const std::vector<Message>& messages) = 0;
};

class ConnectionSink final : public MessageSink {
  public:
    explicit ConnectionSink(Connection& conn,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10))
        : conn_(conn), timeout_(timeout) {}
    // Messages that opt in travel combined (coalesce.hpp): one confirm covers them all anyway.
    void publish_confirmed(const std::vector<Message>& messages) override {
        if (!messages.empty())
            conn_.publish_confirmed(coalesce(messages), timeout_);
    }

  private:
    Connection& conn_;
    std::chrono::milliseconds timeout_;
};

}  // namespace sonae::amqp
