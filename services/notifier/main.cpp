// sonae-notifier: delivers notifications to channels and runs playbooks' HTTP actions.
#include <sonae/service/main.hpp>

#include "src/service.hpp"

int main() {
    return sonae::service::run("notifier", sonae::notifier::Service::create);
}
