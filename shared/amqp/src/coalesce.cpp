#include <map>
#include <tuple>

#include <sonae/amqp/coalesce.hpp>

namespace sonae::amqp {

std::vector<std::vector<std::size_t>> coalesce_groups(const std::vector<const Message*>& messages,
                                                      const CoalesceLimits& limits) {
    std::vector<std::vector<std::size_t>> groups;
    groups.reserve(messages.size());
    if (limits.max_messages <= 1) {
        for (std::size_t i = 0; i < messages.size(); ++i)
            groups.push_back({i});
        return groups;
    }
    struct Open {
        std::size_t group = 0;
        std::size_t bytes = 0;
    };
    using Key = std::tuple<std::string, std::string, std::string, bool, bool>;
    std::map<Key, Open> open;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const Message& m = *messages[i];
        if (m.batch_type.empty()) {
            // Whatever was combined for this exchange and routing key goes out before it.
            std::erase_if(open, [&](const auto& kv) {
                return std::get<0>(kv.first) == m.exchange &&
                       std::get<1>(kv.first) == m.routing_key;
            });
            groups.push_back({i});
            continue;
        }
        const Key key{m.exchange, m.routing_key, m.batch_type, m.persistent, m.mandatory};
        const std::size_t size = m.body.size() + 1;  // and a ',' or the '[' ']'
        auto it = open.find(key);
        if (it != open.end() && (groups[it->second.group].size() >= limits.max_messages ||
                                 it->second.bytes + size > limits.max_bytes)) {
            open.erase(it);
            it = open.end();
        }
        if (it == open.end()) {
            groups.push_back({i});
            open[key] = Open{groups.size() - 1, size + 1};
        } else {
            groups[it->second.group].push_back(i);
            it->second.bytes += size;
        }
    }
    return groups;
}

Message combine(const std::vector<const Message*>& parts, std::string message_id) {
    const Message& first = *parts.front();
    Message m;
    m.exchange = first.exchange;
    m.routing_key = first.routing_key;
    m.message_id = std::move(message_id);
    m.content_type = "application/json";
    m.type = first.batch_type;
    m.persistent = first.persistent;
    m.mandatory = first.mandatory;
    m.headers = first.headers;
    std::size_t size = 2;
    for (const Message* p : parts) {
        size += p->body.size() + 1;
        std::erase_if(m.headers, [&](const auto& kv) {
            auto it = p->headers.find(kv.first);
            return it == p->headers.end() || it->second != kv.second;
        });
    }
    m.body.reserve(size);
    m.body += '[';
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0)
            m.body += ',';
        m.body += parts[i]->body;
    }
    m.body += ']';
    return m;
}

std::vector<Message> coalesce(const std::vector<Message>& messages, const CoalesceLimits& limits) {
    std::vector<const Message*> ptrs;
    ptrs.reserve(messages.size());
    for (const auto& m : messages)
        ptrs.push_back(&m);
    std::vector<Message> out;
    for (const auto& g : coalesce_groups(ptrs, limits)) {
        if (g.size() == 1) {
            out.push_back(messages[g.front()]);
            out.back().batch_type.clear();
            continue;
        }
        std::vector<const Message*> parts;
        parts.reserve(g.size());
        for (std::size_t i : g)
            parts.push_back(ptrs[i]);
        out.push_back(
            combine(parts, parts.front()->message_id + "+" + std::to_string(parts.size() - 1)));
    }
    return out;
}

}  // namespace sonae::amqp
