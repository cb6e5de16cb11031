// The gateway's way to Redis: hiredis blocks, so it never runs on an Asio thread. One thread owns
// the connection, runs jobs in order, and posts each result back to the executor of the coroutine
// that asked. When idle it pings once a second to keep Health::redis fresh (/readyz).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <sonae/redis/redis.hpp>

namespace sonae::gateway {

struct Health;

class RedisWorker {
  public:
    RedisWorker(redis::Settings settings, Health* health);
    ~RedisWorker();
    RedisWorker(const RedisWorker&) = delete;
    RedisWorker& operator=(const RedisWorker&) = delete;

    void start();
    void stop();

    // Runs `fn(connection)` on the Redis thread; the completion gets its result, or nothing when
    // Redis failed (the error is logged).
    template <typename T, typename Token>
    auto async_run(std::function<T(redis::Connection&)> fn, Token&& token) {
        namespace asio = boost::asio;
        return asio::async_initiate<Token, void(std::optional<T>)>(
            [this](auto handler, std::function<T(redis::Connection&)> f) {
                auto executor = asio::prefer(asio::get_associated_executor(handler),
                                             asio::execution::outstanding_work.tracked);
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                post([this, f = std::move(f), shared, executor](redis::Connection* conn) {
                    std::optional<T> result;
                    if (conn != nullptr)
                        result = run_guarded<T>(f, *conn);
                    asio::post(executor, [shared, result = std::move(result)]() mutable {
                        (*shared)(std::move(result));
                    });
                });
            },
            token, std::move(fn));
    }

  private:
    using Job = std::function<void(redis::Connection*)>;  // null: not running
    void post(Job job);
    void run();
    template <typename T>
    std::optional<T> run_guarded(const std::function<T(redis::Connection&)>& f,
                                 redis::Connection& conn) {
        try {
            T result = f(conn);
            healthy(true);
            return result;
        } catch (const redis::ReplyError& e) {
            failed(e);  // the server answered: it is there
            return std::nullopt;
        } catch (const std::exception& e) {
            failed(e);
            healthy(false);
            return std::nullopt;
        }
    }
    static void failed(const std::exception& e);
    void healthy(bool up);

    redis::Settings settings_;
    Health* health_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    bool running_ = false;
    std::thread thread_;
};

}  // namespace sonae::gateway
