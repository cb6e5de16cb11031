#include <chrono>

#include <sonae/clock/clock.hpp>

namespace sonae::clock {

core::TimePoint SystemClock::now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

SystemClock& SystemClock::instance() {
    static SystemClock clock;
    return clock;
}

}  // namespace sonae::clock
