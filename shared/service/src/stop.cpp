#include <csignal>

#include <pthread.h>

#include <sonae/service/stop.hpp>

namespace sonae::service {

void Stop::request() {
    {
        std::lock_guard lock(mu_);
        requested_ = true;
        running_ = false;
    }
    cv_.notify_all();
}

bool Stop::sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return requested_.load(); });
}

void Threads::stop() {
    stop_.request();
    for (auto& t : threads_)
        t.join();
    threads_.clear();
}

namespace {

sigset_t stop_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

StopSignals::StopSignals() {
    const sigset_t set = stop_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int StopSignals::wait() const {
    const sigset_t set = stop_set();
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

}  // namespace sonae::service
