// Token bucket per source (PRODUCT §3: 429 with Retry-After). The caller passes `now`.
#include <algorithm>
#include <cmath>

#include <sonae/ingest/ingest.hpp>

namespace sonae::ingest {

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(std::isfinite(rate_per_s) ? rate_per_s : 0.0),
      // A bucket that can never hold one token would refuse everything.
      burst_(std::isfinite(burst) ? std::max(burst, 1.0) : 1.0),
      tokens_(burst_) {}

bool RateLimiter::try_acquire(core::TimePoint now, std::int64_t* retry_after_s) {
    if (rate_ <= 0) {
        return true;  // no rate configured: limiting is off
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    // A clock that steps back refills nothing; it does not take tokens away either.
    if (now > last_) {
        tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) / 1000.0 * rate_);
        last_ = now;
    }
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return true;
    }
    if (retry_after_s != nullptr) {
        // Whole seconds, rounded up, at least 1 (Retry-After has no fractions); capped at a day.
        const double wait = std::ceil((1.0 - tokens_) / rate_);
        *retry_after_s = static_cast<std::int64_t>(std::clamp(wait, 1.0, 86400.0));
    }
    return false;
}

}  // namespace sonae::ingest
