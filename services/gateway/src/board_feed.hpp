// The live board's feed (GET /v1/stream): one thread follows the Redis stream keys.board(), which
// every commit and timeline append of the orchestrator and notifier writes to (store.cpp), and
// keeps its latest entries in memory. Requests wait on it with an Asio timer each, so any number
// of open boards costs one Redis connection, and a change reaches them as soon as Redis has it.
//
// Stream ids ("<ms>-<seq>") are the clients' cursors. A cursor older than what is kept, newer than
// what was read, or from before a reconnection to Redis (entries may have been missed) is answered
// with a reset: the client reads everything again.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sonae/redis/redis.hpp>

namespace sonae::gateway {

class BoardFeed {
  public:
    struct Change {
        std::string id;  // the stream entry's id
        std::string tenant;
        std::string incident;
    };
    struct Read {
        bool ready = false;            // the feed has read the stream (false: Redis unavailable)
        bool reset = false;            // the cursor cannot be continued: read everything again
        std::string last;              // the newest id known: the cursor to continue from
        std::vector<Change> changes;   // after the cursor, oldest first
        std::uint64_t generation = 0;  // for wait()
    };

    // `settings` for a connection of its own (its command timeout must exceed a second, the
    // blocking read); `keep` entries are kept.
    BoardFeed(redis::Settings settings, std::string key, std::size_t keep = 4096);
    ~BoardFeed();
    BoardFeed(const BoardFeed&) = delete;
    BoardFeed& operator=(const BoardFeed&) = delete;

    void start();
    // Ends the thread and wakes every waiting request (they answer at once).
    void stop();

    // The changes after `cursor` (empty: none, the answer is a reset naming the newest id).
    Read read(const std::string& cursor) const;
    // Until the feed moved past `generation`, `timer` expired or stop(); true when the timer
    // expired. A request keeps one timer for its whole wait: a wake-up cancels the wait, not the
    // expiry, so the next wait on it ends at the same time. The timer's executor must be a strand
    // (the HTTP server's connections are), so that a wake-up is never lost between registering
    // and waiting.
    boost::asio::awaitable<bool> wait(std::uint64_t generation,
                                      std::shared_ptr<boost::asio::steady_timer> timer);
    bool stopping() const;

    // "<ms>-<seq>", as Redis writes stream ids.
    static bool valid_id(const std::string& id);

  private:
    void run();
    void follow(redis::Connection& conn);
    void notify();  // with mu_ held

    redis::Settings settings_;
    std::string key_;
    std::size_t keep_;
    mutable std::mutex mu_;
    bool ready_ = false;
    bool stopping_ = false;
    std::string base_;  // entries up to this id are not kept
    std::deque<Change> changes_;
    std::uint64_t generation_ = 0;
    std::set<std::shared_ptr<boost::asio::steady_timer>> waiters_;
    std::thread thread_;
};

}  // namespace sonae::gateway
