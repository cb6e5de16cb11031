#include <stdexcept>

#include <sonae/core/messages.hpp>

namespace sonae::core {

const Messages& Messages::defaults() {
    static const Messages shipped = [] {
        Messages m;
        m.texts_ = {
            {"exercise_prefix", "【訓練】[EXERCISE] "},
            {"redacted_title",
             "機密性{{classification}}のインシデント (classified incident {{id}})"},
            {"opened.title", "[{{severity}}] {{title}}"},
            {"opened.text",
             "インシデント {{id}} を起票しました / incident opened\n"
             "プレイブック/playbook: {{playbook_title}}\n"
             "影響業務/services: {{services_text}}\n資産/assets: {{hosts}}"},
            {"step.title", "{{step.title}} — {{title}}"},
            {"step.text", "{{step.title}}"},
            {"assigned.title", "[担当/ASSIGNED] {{step.title}} — {{title}}"},
            {"assigned.text",
             "{{step.title}} の担当は {{assignee}} です / {{assignee}} now owns {{step.title}} "
             "({{id}})"},
            {"due_soon.title", "[期限間近/DUE SOON] {{step.title}} — {{title}}"},
            {"due_soon.text",
             "{{step.title}} の期限は {{step.due}} です / {{step.title}} is due at {{step.due}} "
             "({{id}})"},
            {"overdue.title", "[期限超過/OVERDUE] {{step.title}} — {{title}}"},
            {"overdue.text",
             "{{step.title}} が期限 {{step.due}} を過ぎました / {{step.title}} is overdue since "
             "{{step.due}} ({{id}})"},
            {"decision.title", "[判断/DECISION] {{step.title}} — {{title}}"},
            {"decision.text",
             "判断してください: {{step.options}} / a decision is needed: {{step.options}} "
             "({{id}})"},
            {"escalation.title", "[エスカレーション/ESCALATION] {{title}}"},
            {"escalation.text", "{{title}} ({{id}}): エスカレーション {{escalation}} / escalation"},
            {"manual_escalation.text",
             "{{actor}} がエスカレーションしました / escalated by {{actor}} ({{id}})"},
            {"severity.title", "[{{severity}}] {{title}}"},
            {"severity.text",
             "重大度が {{from}} から {{severity}} に上がりました / severity raised ({{id}})"},
            {"rto_breached.title", "[RTO超過/RTO BREACHED] {{title}}"},
            {"rto_breached.text",
             "{{service.name}} の目標復旧時間 {{service.rto}} を超過しました / RTO breached"},
            {"breach_predicted.title", "[RTO予測/PREDICTED BREACH] {{title}}"},
            {"breach_predicted.text",
             "{{service.name}} の復旧見込み {{projected}} がRTOを超えます / "
             "projected recovery passes the RTO"},
            {"resolved.title", "[解決/RESOLVED] {{title}}"},
            {"resolved.text", "インシデント {{id}} は解決しました / resolved: {{resolution}}"},
        };
        return m;
    }();
    return shipped;
}

Result<Messages> Messages::with_overrides(const nlohmann::json& overrides) {
    Messages m = defaults();
    if (!overrides.is_object())
        return Error::invalid_field("", "messages must be a mapping of key: text");
    for (const auto& [key, value] : overrides.items()) {
        const std::string pointer = "/" + key;
        if (m.texts_.count(key) == 0)
            return Error::invalid_field(pointer, "unknown message key '" + key + "'");
        if (!value.is_string())
            return Error::invalid_field(pointer, "message '" + key + "' must be a string");
        m.texts_[key] = value.get<std::string>();
    }
    return m;
}

const std::string& Messages::get(const std::string& key) const {
    auto it = texts_.find(key);
    if (it == texts_.end())
        throw std::logic_error("no message '" + key + "'");  // a programming error, not input
    return it->second;
}

}  // namespace sonae::core
