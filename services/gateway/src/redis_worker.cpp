#include "redis_worker.hpp"

#include <spdlog/spdlog.h>

#include "gateway.hpp"

namespace sonae::gateway {

RedisWorker::RedisWorker(redis::Settings settings, Health* health)
    : settings_(std::move(settings)), health_(health) {}

RedisWorker::~RedisWorker() {
    stop();
}

void RedisWorker::start() {
    std::lock_guard lock(mu_);
    if (running_)
        return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void RedisWorker::stop() {
    {
        std::lock_guard lock(mu_);
        if (!running_)
            return;
        running_ = false;
    }
    cv_.notify_all();
    thread_.join();
    // Whoever still waits is told that Redis is not there.
    for (auto& job : jobs_)
        job(nullptr);
    jobs_.clear();
}

void RedisWorker::post(Job job) {
    {
        std::lock_guard lock(mu_);
        if (running_) {
            jobs_.push_back(std::move(job));
            job = nullptr;
        }
    }
    if (job)
        job(nullptr);
    else
        cv_.notify_one();
}

void RedisWorker::failed(const std::exception& e) {
    spdlog::warn("redis: {}", e.what());
}

void RedisWorker::healthy(bool up) {
    if (health_ != nullptr)
        health_->redis = up;
}

void RedisWorker::run() {
    redis::Connection conn(settings_);
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            const bool woken = cv_.wait_for(lock, std::chrono::seconds(1),
                                            [this] { return !running_ || !jobs_.empty(); });
            if (!running_)
                return;
            if (woken) {
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
        }
        if (job) {
            job(&conn);
            continue;
        }
        // Idle for a second: refresh readiness.
        try {
            healthy(conn.command({"PING"}).str() == "PONG");
        } catch (const std::exception&) {
            healthy(false);
        }
    }
}

}  // namespace sonae::gateway
