#include "board_feed.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace sonae::gateway {
namespace {

namespace asio = boost::asio;

using StreamId = std::pair<std::uint64_t, std::uint64_t>;

std::optional<StreamId> parse_id(const std::string& id) {
    const auto dash = id.find('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 >= id.size())
        return std::nullopt;
    StreamId out;
    const char* end = id.data() + id.size();
    auto a = std::from_chars(id.data(), id.data() + dash, out.first);
    auto b = std::from_chars(id.data() + dash + 1, end, out.second);
    if (a.ec != std::errc{} || a.ptr != id.data() + dash || b.ec != std::errc{} || b.ptr != end)
        return std::nullopt;
    return out;
}

StreamId id_of(const std::string& id) {
    return parse_id(id).value_or(StreamId{0, 0});
}

constexpr auto kBlock = std::chrono::milliseconds(500);  // stop() waits at most this long
constexpr auto kRetry = std::chrono::milliseconds(500);  // between attempts to reach Redis

}  // namespace

BoardFeed::BoardFeed(redis::Settings settings, std::string key, std::size_t keep)
    : settings_(std::move(settings)), key_(std::move(key)), keep_(keep) {
    settings_.command_timeout = std::max(settings_.command_timeout, kBlock * 4);
}

BoardFeed::~BoardFeed() {
    stop();
}

bool BoardFeed::valid_id(const std::string& id) {
    return parse_id(id).has_value();
}

void BoardFeed::start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable())
        return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void BoardFeed::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        ++generation_;
        notify();
    }
    if (thread_.joinable())
        thread_.join();
}

bool BoardFeed::stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
}

void BoardFeed::notify() {
    for (const auto& timer : waiters_)
        asio::post(timer->get_executor(), [timer] { timer->cancel(); });
    waiters_.clear();
}

BoardFeed::Read BoardFeed::read(const std::string& cursor) const {
    std::lock_guard lock(mu_);
    Read out;
    out.ready = ready_;
    out.generation = generation_;
    out.last = changes_.empty() ? base_ : changes_.back().id;
    if (!ready_)
        return out;
    const auto at = parse_id(cursor);
    if (!at || *at < id_of(base_) || id_of(out.last) < *at) {
        out.reset = true;
        return out;
    }
    auto first =
        std::upper_bound(changes_.begin(), changes_.end(), *at,
                         [](const StreamId& v, const Change& c) { return v < id_of(c.id); });
    out.changes.assign(first, changes_.end());
    return out;
}

asio::awaitable<bool> BoardFeed::wait(std::uint64_t generation,
                                      std::shared_ptr<asio::steady_timer> timer) {
    {
        std::lock_guard lock(mu_);
        if (generation_ != generation || stopping_)
            co_return false;
        waiters_.insert(timer);
    }
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::lock_guard lock(mu_);
    waiters_.erase(timer);
    co_return !ec;  // operation_aborted: woken by a change or stop()
}

void BoardFeed::run() {
    bool warned = false;
    while (!stopping()) {
        try {
            redis::Connection conn(settings_);
            conn.connect();
            warned = false;  // the next outage is worth a warning again
            follow(conn);
        } catch (const std::exception& e) {
            if (!warned)
                spdlog::warn("board feed: {}; retrying", e.what());
            warned = true;
        }
        {
            // Entries written meanwhile may be missed: every client reads everything again.
            std::lock_guard lock(mu_);
            if (ready_) {
                ready_ = false;
                ++generation_;
                notify();
            }
        }
        for (auto waited = std::chrono::milliseconds(0); waited < kRetry && !stopping();
             waited += std::chrono::milliseconds(50))
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void BoardFeed::follow(redis::Connection& conn) {
    const auto head = conn.command({"XREVRANGE", key_, "+", "-", "COUNT", "1"});
    std::string last = "0-0";
    if (!head.elements().empty())
        last = head.elements().at(0).elements().at(0).str();
    {
        std::lock_guard lock(mu_);
        changes_.clear();
        base_ = last;
        ready_ = true;
        ++generation_;
        notify();
    }
    spdlog::info("board feed: following {} from {}", key_, last);
    const std::string block = std::to_string(kBlock.count());
    while (!stopping()) {
        const auto r =
            conn.command({"XREAD", "COUNT", "1000", "BLOCK", block, "STREAMS", key_, last});
        if (r.is_nil() || r.elements().empty())
            continue;
        std::vector<Change> batch;
        for (const auto& entry : r.elements().at(0).elements().at(1).elements()) {
            Change c;
            c.id = entry.elements().at(0).str();
            const auto& fields = entry.elements().at(1).elements();
            for (std::size_t k = 0; k + 1 < fields.size(); k += 2) {
                if (fields[k].str() == "t")
                    c.tenant = fields[k + 1].str();
                else if (fields[k].str() == "i")
                    c.incident = fields[k + 1].str();
            }
            last = c.id;
            batch.push_back(std::move(c));
        }
        std::lock_guard lock(mu_);
        for (auto& c : batch)
            changes_.push_back(std::move(c));
        while (changes_.size() > keep_) {
            base_ = changes_.front().id;
            changes_.pop_front();
        }
        ++generation_;
        notify();
    }
}

}  // namespace sonae::gateway
