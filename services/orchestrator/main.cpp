// sonae-orchestrator: consumes events and commands, runs the playbook engine, fires timers.
#include <sonae/service/main.hpp>

#include "src/service.hpp"

int main() {
    return sonae::service::run("orchestrator", sonae::orchestrator::Service::create);
}
