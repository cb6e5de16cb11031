// sonae: the command line (PRODUCT §6, §10, §11): version, playbook lint, exercises, the
// operator's incident, services and playbooks commands over the REST API, and API tokens.
// Exit status: 0 ok, 1 refused, not found or failed, 2 usage. The commands live in src/.
#include <iostream>

#include <sonae/config/config.hpp>

#include "src/commands.hpp"

int main(int argc, char** argv) {
    auto env = sonae::config::read_environment();
    if (!env) {
        std::cerr << "sonae: " << env.error().message << "\n";
        return 2;
    }
    return sonae::cli::run(argc, argv, *env);
}
