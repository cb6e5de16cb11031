// Stopping a service: a Stop that loops poll and sleep on (a sleep ends at once when stop is
// requested), and StopSignals, which turns SIGINT/SIGTERM into a call of Stop::request in main.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace sonae::service {

class Stop {
  public:
    void request();
    bool requested() const { return requested_.load(); }
    // Sleeps for `d` or until stop is requested; returns false when stop was requested.
    bool sleep_for(std::chrono::milliseconds d);
    // For loops that take an atomic flag: true while running.
    const std::atomic<bool>& running() const { return running_; }

  private:
    std::atomic<bool> requested_{false};
    std::atomic<bool> running_{true};
    std::mutex mu_;
    std::condition_variable cv_;
};

// A service's threads and the Stop they watch: stop() requests it and joins them all.
class Threads {
  public:
    ~Threads() { stop(); }
    template <typename F>
    void spawn(F&& f) {
        threads_.emplace_back(std::forward<F>(f));
    }
    Stop& stop_flag() { return stop_; }
    void stop();

  private:
    Stop stop_;
    std::vector<std::thread> threads_;
};

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts afterwards, so
// construct it first thing in main; wait() returns the signal that arrived.
class StopSignals {
  public:
    StopSignals();
    int wait() const;
};

}  // namespace sonae::service
