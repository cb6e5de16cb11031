// RateLimiter: token bucket with an injected clock.
#include <atomic>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace sonae::ingest {
namespace {

TEST_CASE("rate limiter: burst, then refill at the rate") {
    RateLimiter limiter(1.0, 2.0);
    std::int64_t retry = 0;
    CHECK(limiter.try_acquire(10'000, &retry));
    CHECK(limiter.try_acquire(10'000, &retry));
    CHECK_FALSE(limiter.try_acquire(10'000, &retry));
    CHECK(retry == 1);
    CHECK_FALSE(limiter.try_acquire(10'500, &retry));
    CHECK(retry == 1);  // half a token left to wait for: rounded up to a whole second
    CHECK(limiter.try_acquire(11'000, &retry));
    CHECK_FALSE(limiter.try_acquire(11'000, &retry));
    // A long pause refills up to the burst, not beyond.
    CHECK(limiter.try_acquire(100'000, &retry));
    CHECK(limiter.try_acquire(100'000, &retry));
    CHECK_FALSE(limiter.try_acquire(100'000, &retry));
}

TEST_CASE("rate limiter: slow rates give longer Retry-After, clocks stepping back are harmless") {
    RateLimiter limiter(0.1, 1.0);  // one request per 10 s
    std::int64_t retry = 0;
    CHECK(limiter.try_acquire(0, &retry));
    CHECK_FALSE(limiter.try_acquire(0, &retry));
    CHECK(retry == 10);
    CHECK_FALSE(limiter.try_acquire(4'000, &retry));
    CHECK(retry == 6);
    CHECK_FALSE(limiter.try_acquire(1'000, &retry));  // earlier than last seen: no refill
    CHECK(retry == 6);
    CHECK(limiter.try_acquire(10'000, &retry));
    CHECK_FALSE(limiter.try_acquire(10'000, nullptr));  // retry_after is optional
}

TEST_CASE("rate limiter: zero rate disables limiting, bursts below one count as one") {
    RateLimiter off(0, 0);
    for (int i = 0; i < 1000; ++i) {
        CHECK(off.try_acquire(0, nullptr));
    }
    RateLimiter tiny(10, 0.2);
    CHECK(tiny.try_acquire(0, nullptr));
    CHECK_FALSE(tiny.try_acquire(0, nullptr));
}

TEST_CASE("rate limiter: concurrent callers share one bucket") {
    RateLimiter limiter(0.001, 50);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                if (limiter.try_acquire(5'000, nullptr)) {
                    ++allowed;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(allowed.load() == 50);
}

}  // namespace
}  // namespace sonae::ingest
