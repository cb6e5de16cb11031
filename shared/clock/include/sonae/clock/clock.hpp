// The time business code sees. Services take a Clock& instead of reading the system clock, so
// component tests run them on a ManualClock and the simulator on virtual time.
#pragma once

#include <atomic>

#include <sonae/core/time.hpp>

namespace sonae::clock {

class Clock {
  public:
    virtual ~Clock() = default;
    // Wall-clock time (ms since the Unix epoch, UTC).
    virtual core::TimePoint now() const = 0;
};

class SystemClock final : public Clock {
  public:
    core::TimePoint now() const override;
    // The process-wide instance.
    static SystemClock& instance();
};

// Time that moves only when a test says so. Thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(core::TimePoint start) : now_(start) {}
    core::TimePoint now() const override { return now_.load(); }
    void set(core::TimePoint t) { now_.store(t); }
    void advance(core::Duration d) { now_.fetch_add(d); }

  private:
    std::atomic<core::TimePoint> now_;
};

}  // namespace sonae::clock
