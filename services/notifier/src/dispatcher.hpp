// The notifier's consumer side (PRODUCT §8): each delivery's HTTP calls start at once and run
// concurrently on the consumer's thread (curl multi), so a slow or hanging receiver holds only
// its own calls, never the other channels, incidents or the broker's heartbeats. When every call
// of a delivery has finished, the outcomes go to Redis in one round trip (delivered markers and
// timeline entries), retries and dead letters to the broker, and only then is it acknowledged.
//
// At-least-once: a delivery redelivered after a crash or reconnect skips the channels marked
// delivered, and joins a call still running for it instead of starting a second one.
//
// A combined delivery (type "notifications", a JSON array of notifications) is settled once each
// of its notifications is: each is a job of its own, with its own delivered markers, its retries
// published singly to the delay queues and its dead letter published singly, so a failure never
// re-sends the others. Only when publishing or recording fails is the whole delivery requeued
// (its notifications delivered meanwhile are skipped by their markers).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <sonae/amqp/consumer.hpp>
#include <sonae/amqp/topology.hpp>
#include <sonae/clock/clock.hpp>
#include <sonae/config/config.hpp>
#include <sonae/http/client.hpp>
#include <sonae/ingest/ingest.hpp>
#include <sonae/store/store.hpp>

#include "delivery.hpp"
#include "lineworks.hpp"
#include "metrics.hpp"

namespace sonae::notifier {

class Dispatcher final : public amqp::AsyncHandler {
  public:
    Dispatcher(const config::Config& config, store::IncidentStore& store,
               const amqp::Topology& topology, const clock::Clock& clock, std::uint64_t seed,
               Metrics& metrics);
    ~Dispatcher() override;

    std::vector<amqp::Verdict> on_batch(amqp::Connection& conn,
                                        const std::vector<amqp::Delivery>& batch) override;
    void poll(amqp::Connection& conn, int broker_fd, std::chrono::milliseconds budget,
              const amqp::Settle& settle) override;
    void on_disconnect() override;
    std::size_t pending() const override { return jobs_.size(); }

  private:
    struct Job;
    struct Waiter;
    struct Group;  // the jobs of one combined delivery
    // Starts one call; its answer goes to the callback.
    using Starter = std::function<void(http::AsyncClient::Done)>;
    amqp::Verdict start_notification(const amqp::Delivery& d, const nlohmann::json& body,
                                     std::vector<std::string>& markers,
                                     std::vector<std::shared_ptr<Job>>& fresh);
    // Each element of a combined delivery as a notification job of `group`.
    void start_notifications(const amqp::Delivery& d, const nlohmann::json& body,
                             const std::shared_ptr<Group>& group, std::vector<std::string>& markers,
                             std::vector<std::shared_ptr<Job>>& fresh);
    void forget(const std::shared_ptr<Job>& job);
    amqp::Verdict start_action(amqp::Connection& conn, const amqp::Delivery& d);
    amqp::Verdict start_reply(const amqp::Delivery& d);
    Starter http_starter(http::ClientRequest request);
    Starter starter(const config::Channel& ch, const Outgoing& out);
    // Starts (or joins) the call that delivers `key`; a rate-limited channel's waits its turn.
    void send(const std::string& key, Starter start, Waiter waiter,
              const config::Channel* channel = nullptr);
    void release_throttled();
    bool any_throttled() const;
    void on_response(const std::string& key, const http::ClientResponse& r);
    void finish(amqp::Connection& conn, Job& job);
    void publish_retry(amqp::Connection& conn, const Job& job, std::int64_t retry_after_s);
    void dead_letter(amqp::Connection& conn, const Job& job, const std::string& why);
    void publish_result(amqp::Connection& conn, const core::HttpAction& a, bool ok, long status,
                        const std::string& detail);

    const config::Config& config_;
    store::IncidentStore& store_;
    const amqp::Topology& topology_;
    const clock::Clock& clock_;
    Metrics& metrics_;
    std::mt19937_64 rng_;
    http::AsyncClient client_;
    LineWorks lineworks_;
    std::map<std::string, ingest::RateLimiter> limits_;  // channels with a rate limit
    std::map<std::string, std::deque<std::function<void()>>> throttled_;  // calls waiting
    // Deliveries of the live connection with calls running, by delivery tag.
    std::unordered_multimap<std::uint64_t, std::shared_ptr<Job>> jobs_;  // several: combined
    // Calls running, by what they deliver (a delivered-marker key): who waits for each.
    std::unordered_map<std::string, std::vector<Waiter>> inflight_;
    std::deque<std::shared_ptr<Job>> finished_;
    std::vector<store::IncidentStore::Record> records_;  // outcomes not yet written
};

}  // namespace sonae::notifier
