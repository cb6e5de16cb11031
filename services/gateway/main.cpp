// sonae-gateway: HTTP ingest, health and metrics in front of RabbitMQ.
#include <sonae/service/main.hpp>

#include "src/service.hpp"

int main() {
    return sonae::service::run("gateway", sonae::gateway::Service::create);
}
