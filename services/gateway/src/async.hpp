// Helpers of the gateway's coroutines (private to the gateway library).
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <sonae/amqp/publisher.hpp>
#include <sonae/http/server.hpp>
#include <sonae/ingest/ingest.hpp>

namespace sonae::gateway {

// Bridges the publisher thread's callback into the caller's executor (a coroutine here), keeping
// the io_context alive while the broker has not answered.
template <typename Token>
auto async_publish(amqp::Publisher& publisher, std::vector<amqp::Message> messages, Token&& token) {
    namespace asio = boost::asio;
    return asio::async_initiate<Token, void(amqp::PublishOutcome)>(
        [&publisher](auto handler, std::vector<amqp::Message> msgs) {
            auto executor = asio::prefer(asio::get_associated_executor(handler),
                                         asio::execution::outstanding_work.tracked);
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            publisher.submit(std::move(msgs), [shared, executor](amqp::PublishOutcome outcome) {
                asio::post(executor, [shared, outcome = std::move(outcome)]() mutable {
                    (*shared)(std::move(outcome));
                });
            });
        },
        token, std::move(messages));
}

inline ingest::HeaderMap headers_of(const http::Request& req) {
    ingest::HeaderMap h;
    for (const auto& f : req)
        h.set(f.name_string(), std::string(f.value()));
    return h;
}

}  // namespace sonae::gateway
