#include <algorithm>

#include <sonae/core/playbook.hpp>
#include <sonae/core/schema.hpp>

namespace sonae::core {
namespace {

using nlohmann::json;

std::string str(const json& o, const char* key, const std::string& fallback = {}) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<std::string> strings(const json& o, const char* key) {
    std::vector<std::string> out;
    if (auto it = o.find(key); it != o.end() && it->is_array()) {
        for (const auto& v : *it) {
            if (v.is_string())
                out.push_back(v.get<std::string>());
        }
    }
    return out;
}

NotifyTarget target_of(const json& o) {
    return NotifyTarget{strings(o, "roles"), strings(o, "channels")};
}

class Parser {
  public:
    Parser(const LocatedJson& doc, const std::string& file) : doc_(doc), file_(file) {}

    Error fail(const std::string& pointer, const std::string& message) const {
        return Error{ErrorCode::kInvalidField,
                     file_ + ":" + std::to_string(doc_.line_of(pointer)) + ": " + message, pointer};
    }

    Result<Duration> duration(const json& o, const char* key, const std::string& pointer) const {
        const std::string text = str(o, key);
        auto d = parse_duration(text);
        if (!d)
            return fail(pointer + "/" + key,
                        "invalid duration '" + text + "' (use 30s, 15m, 4h, 2d)");
        return *d;
    }

    Result<std::optional<Condition>> condition(const json& o, const char* key,
                                               const std::string& pointer) const {
        auto it = o.find(key);
        if (it == o.end())
            return std::optional<Condition>{};
        auto c = parse_condition(*it, pointer + "/" + key);
        if (!c)
            return fail(c.error().field, c.error().message);
        return std::optional<Condition>{std::move(c.value())};
    }

    Result<Step> step(const json& s, const std::string& ptr) const {
        Step st;
        st.pointer = ptr;
        st.line = doc_.line_of(ptr);
        st.id = str(s, "id");
        st.title = str(s, "title", st.id);
        st.description = str(s, "description");
        const std::string type = str(s, "type", "task");
        if (type == "task")
            st.type = StepType::kTask;
        else if (type == "decision")
            st.type = StepType::kDecision;
        else if (type == "notify")
            st.type = StepType::kNotify;
        else if (type == "http")
            st.type = StepType::kHttp;
        else if (type == "wait")
            st.type = StepType::kWait;
        st.after = strings(s, "after");
        auto when = condition(s, "when", ptr);
        if (!when)
            return when.error();
        st.when = std::move(when.value());
        if (s.contains("due")) {
            auto d = duration(s, "due", ptr);
            if (!d)
                return d.error();
            st.due = *d;
        }
        st.due_from_start = str(s, "due_from", "activation") == "start";
        if (s.contains("estimate")) {
            auto d = duration(s, "estimate", ptr);
            if (!d)
                return d.error();
            st.estimate = *d;
        }
        st.owner = str(s, "owner");
        st.options = strings(s, "options");
        st.recovers = strings(s, "recovers");
        st.milestone = str(s, "milestone");
        if (auto n = s.find("notify"); n != s.end())
            st.notify = target_of(*n);
        st.message = str(s, "message");
        if (st.type == StepType::kDecision && st.options.size() < 2) {
            return fail(ptr + "/options", "a decision step needs at least two options");
        }
        if (st.type == StepType::kNotify && st.notify.empty()) {
            return fail(ptr + "/notify", "a notify step needs roles or channels");
        }
        if (st.type == StepType::kWait) {
            auto d = duration(s, "wait", ptr);
            if (!d)
                return d.error();
            st.wait = *d;
        }
        if (st.type == StepType::kHttp) {
            const json& h = s.at("http");
            const std::string hp = ptr + "/http";
            st.http.method = str(h, "method", "POST");
            st.http.url = str(h, "url");
            st.http.body = str(h, "body");
            if (auto hs = h.find("headers"); hs != h.end()) {
                for (const auto& [k, v] : hs->items())
                    st.http.headers[k] = v.get<std::string>();
            }
            if (h.contains("timeout")) {
                auto d = duration(h, "timeout", hp);
                if (!d)
                    return d.error();
                if (*d < kMinRequestTimeout || *d > kMaxRequestTimeout)
                    return fail(hp + "/timeout", "timeout must be from 100ms to 60s");
                st.http.timeout = *d;
            }
            st.http.retries = h.value("retries", 3);
        }
        return st;
    }

    Result<Escalation> escalation(const json& e, const std::string& ptr) const {
        Escalation esc;
        esc.pointer = ptr;
        esc.line = doc_.line_of(ptr);
        esc.id = str(e, "id");
        esc.message = str(e, "message");
        if (auto n = e.find("notify"); n != e.end())
            esc.notify = target_of(*n);
        auto when = condition(e, "when", ptr);
        if (!when)
            return when.error();
        esc.when = std::move(when.value());
        if (e.contains("at_rto_fraction")) {
            esc.trigger = EscalationTrigger::kRtoFraction;
            esc.fraction = e.at("at_rto_fraction").get<double>();
        } else if (e.contains("after")) {
            esc.trigger = EscalationTrigger::kAfter;
            auto d = duration(e, "after", ptr);
            if (!d)
                return d.error();
            esc.after = *d;
        } else if (e.contains("at_time")) {
            esc.trigger = EscalationTrigger::kAtTime;
            const std::string t = str(e, "at_time");
            int h = -1, m = -1;
            if (t.size() == 5 && t[2] == ':') {
                try {
                    h = std::stoi(t.substr(0, 2));
                    m = std::stoi(t.substr(3, 2));
                } catch (const std::exception&) {
                }
            }
            if (h < 0 || h > 23 || m < 0 || m > 59)
                return fail(ptr + "/at_time", "at_time must be HH:MM");
            esc.minute_of_day = h * 60 + m;
        } else if (e.contains("overdue")) {
            esc.trigger = EscalationTrigger::kOverdue;
            const json& o = e.at("overdue");
            if (o.is_array())
                esc.steps = o.get<std::vector<std::string>>();
        } else if (e.contains("predicted_breach")) {
            esc.trigger = EscalationTrigger::kPredictedBreach;
        } else if (e.contains("severity_at_least")) {
            esc.trigger = EscalationTrigger::kSeverity;
            esc.severity =
                parse_severity(str(e, "severity_at_least")).value_or(Severity::kCritical);
        } else if (e.contains("assets_at_least")) {
            esc.trigger = EscalationTrigger::kAssets;
            esc.assets = e.at("assets_at_least").get<int>();
        } else {
            return fail(ptr,
                        "escalation needs a trigger: at_rto_fraction, after, at_time, overdue, "
                        "predicted_breach, severity_at_least or assets_at_least");
        }
        return esc;
    }

    Result<Playbook> playbook() const {
        const json& j = doc_.value;
        Playbook pb;
        pb.file = file_;
        pb.source = doc_;
        pb.id = str(j, "id");
        pb.title = str(j, "title", pb.id);
        pb.description = str(j, "description");
        pb.version = j.value("version", 1);
        pb.priority = j.value("priority", 0);
        auto match = condition(j, "match", "");
        if (!match)
            return match.error();
        pb.match = std::move(match.value());
        pb.rto_start = str(j, "rto_start", "detection") == "declaration" ? RtoStart::kDeclaration
                                                                         : RtoStart::kDetection;
        pb.auto_resolve = j.value("auto_resolve", false);
        if (auto it = j.find("correlate"); it != j.end()) {
            pb.correlate = correlation_from_json(*it, doc_.line_of("/correlate"));
            if (!pb.correlate)
                return fail("/correlate/window", "correlate needs a positive window");
        }
        if (auto it = j.find("classification"); it != j.end()) {
            const std::string c =
                it->is_number_integer() ? std::to_string(it->get<int>()) : it->get<std::string>();
            pb.classification = parse_classification(c);
        }
        pb.roles = strings(j, "roles");
        pb.services = strings(j, "services");
        if (auto n = j.find("notify"); n != j.end())
            pb.notify = target_of(*n);
        pb.manual_escalation = strings(j, "manual_escalation");
        const auto& escs = j.value("escalation", json::array());
        for (std::size_t i = 0; i < escs.size(); ++i) {
            auto e = escalation(escs[i], "/escalation/" + std::to_string(i));
            if (!e)
                return e.error();
            pb.escalation.push_back(std::move(e.value()));
        }
        const auto& steps = j.at("steps");
        for (std::size_t i = 0; i < steps.size(); ++i) {
            auto s = step(steps[i], "/steps/" + std::to_string(i));
            if (!s)
                return s.error();
            if (pb.step(s->id) != nullptr) {
                return fail("/steps/" + std::to_string(i) + "/id",
                            "duplicate step id '" + s->id + "'");
            }
            pb.steps.push_back(std::move(s.value()));
        }
        return pb;
    }

  private:
    const LocatedJson& doc_;
    const std::string& file_;
};

}  // namespace

std::string_view to_string(StepType t) {
    switch (t) {
        case StepType::kTask:
            return "task";
        case StepType::kDecision:
            return "decision";
        case StepType::kNotify:
            return "notify";
        case StepType::kHttp:
            return "http";
        case StepType::kWait:
            return "wait";
    }
    return "?";
}

Duration Step::planned() const {
    if (estimate)
        return *estimate;
    if (type == StepType::kWait)
        return wait;
    if (due && !due_from_start)
        return *due;
    return 0;
}

const Step* Playbook::step(const std::string& step_id) const {
    for (const auto& s : steps) {
        if (s.id == step_id)
            return &s;
    }
    return nullptr;
}

Result<Playbook> parse_playbook(const LocatedJson& doc, const std::string& file,
                                const SchemaValidator& schema) {
    if (auto ok = schema.validate(doc.value); !ok) {
        return Error{
            ErrorCode::kInvalidField,
            file + ":" + std::to_string(doc.line_of(ok.error().field)) + ": " + ok.error().message,
            ok.error().field};
    }
    return Parser(doc, file).playbook();
}

PlaybookSet::PlaybookSet(std::vector<Playbook> playbooks, std::string default_id)
    : playbooks_(std::move(playbooks)), default_id_(std::move(default_id)) {
    std::sort(playbooks_.begin(), playbooks_.end(), [](const Playbook& a, const Playbook& b) {
        return a.priority != b.priority ? a.priority > b.priority : a.id < b.id;
    });
}

const Playbook* PlaybookSet::find(const std::string& id) const {
    for (const auto& p : playbooks_) {
        if (p.id == id)
            return &p;
    }
    return nullptr;
}

std::vector<std::string> event_field(const Event& e, const std::string& field) {
    if (field == "category")
        return {std::string(to_string(e.category))};
    if (field == "severity")
        return {std::string(to_string(e.severity))};
    if (field == "source")
        return {e.source};
    if (field == "title")
        return {e.title};
    if (field == "action")
        return {std::string(to_string(e.action))};
    if (field == "dedup_key")
        return {e.dedup_key};
    if (field == "exercise")
        return {e.exercise ? "true" : "false"};
    if (field == "classification") {
        if (e.classification)
            return {std::string(to_string(*e.classification))};
        return {};
    }
    if (field.rfind("labels.", 0) == 0) {
        auto it = e.labels.find(field.substr(7));
        if (it != e.labels.end())
            return {it->second};
        return {};
    }
    if (field.rfind("assets.", 0) == 0) {
        const std::string part = field.substr(7);
        std::vector<std::string> out;
        for (const auto& a : e.assets) {
            const std::string& v = part == "host"   ? a.host
                                   : part == "ip"   ? a.ip
                                   : part == "user" ? a.user
                                                    : a.system;
            if (!v.empty())
                out.push_back(v);
        }
        return out;
    }
    return {};
}

const Playbook* PlaybookSet::match(const Event& event) const {
    ConditionSubject subject{[&](const std::string& f) { return event_field(event, f); },
                             [](const std::string&) { return std::optional<std::string>{}; }};
    for (const auto& p : playbooks_) {
        if (p.match && evaluate(*p.match, subject))
            return &p;
    }
    return nullptr;
}

const Playbook* PlaybookSet::select(const Event& event) const {
    if (const Playbook* p = match(event))
        return p;
    return default_id_.empty() ? nullptr : find(default_id_);
}

}  // namespace sonae::core
