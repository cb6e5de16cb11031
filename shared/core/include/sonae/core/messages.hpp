// The bilingual texts sonae writes into notifications (mustache templates over the incident view),
// in one catalog a municipality can override key by key with `messages.yaml` beside its playbooks
// (docs/playbooks.md, "Messages"). Playbook-specific texts (a step's message, an escalation's
// message) stay in the playbook.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include <sonae/core/result.hpp>

namespace sonae::core {

class Messages {
  public:
    // The shipped texts (Japanese, then English).
    static const Messages& defaults();

    // The defaults with some keys replaced; an unknown key or a non-string value is an error
    // naming its JSON pointer.
    static Result<Messages> with_overrides(const nlohmann::json& overrides);

    // The text of a known key (every key used by the engine is in the defaults).
    const std::string& get(const std::string& key) const;
    const std::map<std::string, std::string>& all() const { return texts_; }

  private:
    std::map<std::string, std::string> texts_;
};

}  // namespace sonae::core
