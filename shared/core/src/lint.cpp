#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <sonae/core/lint.hpp>
#include <sonae/core/template.hpp>

namespace sonae::core {
namespace {

bool known_field(const std::string& f) {
    static const std::set<std::string> kFields{"category", "severity",  "classification", "title",
                                               "status",   "exercise",  "source",         "sources",
                                               "action",   "dedup_key", "services"};
    if (kFields.count(f) != 0)
        return true;
    if (f.rfind("labels.", 0) == 0 && f.size() > 7)
        return true;
    return f == "assets.host" || f == "assets.ip" || f == "assets.user" || f == "assets.system";
}

class Linter {
  public:
    Linter(const Playbook& pb, const LintContext& ctx) : pb_(pb), ctx_(ctx) {}

    std::vector<Finding> run() {
        check_roles();
        check_services();
        check_graph();
        check_conditions();
        check_escalations();
        check_templates();
        check_rto();
        std::stable_sort(out_.begin(), out_.end(),
                         [](const Finding& a, const Finding& b) { return a.line < b.line; });
        return out_;
    }

  private:
    void add(const std::string& pointer, const std::string& message, bool warning = false) {
        out_.push_back(Finding{pb_.file, pb_.line_of(pointer), message, warning});
    }

    bool role_known(const std::string& r) const {
        return std::find(pb_.roles.begin(), pb_.roles.end(), r) != pb_.roles.end();
    }

    void check_target(const NotifyTarget& t, const std::string& pointer) {
        for (std::size_t i = 0; i < t.roles.size(); ++i) {
            if (!role_known(t.roles[i])) {
                add(pointer + "/roles/" + std::to_string(i),
                    "unknown role '" + t.roles[i] + "' (not in the playbook's roles)");
            }
        }
        if (ctx_.channels != nullptr) {
            for (std::size_t i = 0; i < t.channels.size(); ++i) {
                if (std::find(ctx_.channels->begin(), ctx_.channels->end(), t.channels[i]) ==
                    ctx_.channels->end()) {
                    add(pointer + "/channels/" + std::to_string(i),
                        "unknown channel '" + t.channels[i] + "'");
                }
            }
        }
    }

    void check_roles() {
        if (ctx_.catalog != nullptr) {
            for (std::size_t i = 0; i < pb_.roles.size(); ++i) {
                if (ctx_.catalog->role(pb_.roles[i]) == nullptr) {
                    add("/roles/" + std::to_string(i),
                        "unknown role '" + pb_.roles[i] + "' (not in the catalog)");
                }
            }
        }
        for (std::size_t i = 0; i < pb_.steps.size(); ++i) {
            const Step& s = pb_.steps[i];
            if (!s.owner.empty() && !role_known(s.owner)) {
                add(s.pointer + "/owner", "unknown role '" + s.owner + "' owns step " + s.id);
            }
            if (s.type == StepType::kNotify)
                check_target(s.notify, s.pointer + "/notify");
        }
        check_target(pb_.notify, "/notify");
        for (std::size_t i = 0; i < pb_.manual_escalation.size(); ++i) {
            if (!role_known(pb_.manual_escalation[i])) {
                add("/manual_escalation/" + std::to_string(i),
                    "unknown role '" + pb_.manual_escalation[i] + "'");
            }
        }
    }

    void check_services() {
        if (ctx_.catalog == nullptr)
            return;
        for (std::size_t i = 0; i < pb_.services.size(); ++i) {
            if (ctx_.catalog->service(pb_.services[i]) == nullptr) {
                add("/services/" + std::to_string(i),
                    "unknown service '" + pb_.services[i] + "' (not in the catalog)");
            }
        }
        for (const auto& s : pb_.steps) {
            for (std::size_t k = 0; k < s.recovers.size(); ++k) {
                if (ctx_.catalog->service(s.recovers[k]) == nullptr) {
                    add(s.pointer + "/recovers/" + std::to_string(k),
                        "unknown service '" + s.recovers[k] + "'");
                }
            }
        }
    }

    void check_graph() {
        // Unknown `after` entries.
        for (const auto& s : pb_.steps) {
            for (std::size_t k = 0; k < s.after.size(); ++k) {
                if (pb_.step(s.after[k]) == nullptr) {
                    add(s.pointer + "/after/" + std::to_string(k),
                        "step " + s.id + ": unknown step '" + s.after[k] + "' in after");
                    broken_.insert(s.id);
                } else if (s.after[k] == s.id) {
                    add(s.pointer + "/after/" + std::to_string(k),
                        "step " + s.id + " waits for itself");
                    in_cycle_.insert(s.id);
                }
            }
        }
        // Cycles (three-colour DFS), each reported once.
        std::map<std::string, int> colour;
        std::vector<std::string> stack;
        std::function<void(const Step&)> visit = [&](const Step& s) {
            colour[s.id] = 1;
            stack.push_back(s.id);
            for (const auto& d : s.after) {
                const Step* dep = pb_.step(d);
                if (dep == nullptr || d == s.id)
                    continue;
                if (colour[d] == 1) {
                    auto from = std::find(stack.begin(), stack.end(), d);
                    std::string chain;
                    for (auto it = from; it != stack.end(); ++it) {
                        chain += *it + " → ";
                        in_cycle_.insert(*it);
                    }
                    add(s.pointer + "/after", "cycle: " + chain + d);
                } else if (colour[d] == 0) {
                    visit(*dep);
                }
            }
            stack.pop_back();
            colour[s.id] = 2;
        };
        for (const auto& s : pb_.steps) {
            if (colour[s.id] == 0)
                visit(s);
        }
        // Unreachable: waits (transitively) for a broken or cyclic step, or its `when` can never
        // hold.
        std::map<std::string, bool> memo;
        std::function<bool(const Step&, int)> reachable = [&](const Step& s, int depth) -> bool {
            if (auto it = memo.find(s.id); it != memo.end())
                return it->second;
            if (depth > 512 || broken_.count(s.id) || in_cycle_.count(s.id))
                return memo[s.id] = false;
            memo[s.id] = false;  // guards against cycles while computing
            bool ok = true;
            for (const auto& d : s.after) {
                const Step* dep = pb_.step(d);
                ok = ok && dep != nullptr && reachable(*dep, depth + 1);
            }
            return memo[s.id] = ok && when_satisfiable(s);
        };
        for (const auto& s : pb_.steps) {
            if (broken_.count(s.id) || in_cycle_.count(s.id))
                continue;
            if (!reachable(s, 0))
                add(s.pointer, "unreachable step " + s.id + ": it can never start");
        }
    }

    std::set<std::string> ancestors(const Step& s) const {
        std::set<std::string> out;
        std::vector<std::string> frontier = s.after;
        while (!frontier.empty()) {
            std::string id = frontier.back();
            frontier.pop_back();
            if (!out.insert(id).second)
                continue;
            if (const Step* d = pb_.step(id))
                frontier.insert(frontier.end(), d->after.begin(), d->after.end());
        }
        return out;
    }

    // False when the condition refers to a decision that cannot have been taken yet, or requires
    // one decision to equal two different options at once.
    bool when_satisfiable(const Step& s) const {
        if (!s.when)
            return true;
        std::vector<std::pair<std::string, const Condition*>> refs;
        collect_decisions(*s.when, refs);
        const auto before = ancestors(s);
        for (const auto& [step, cond] : refs) {
            if (before.count(step) == 0)
                return false;
        }
        if (s.when->kind == Condition::Kind::kAll) {
            std::map<std::string, std::string> wanted;
            for (const auto& c : s.when->children) {
                if (c.kind != Condition::Kind::kDecision || c.op != Condition::Op::kEquals)
                    continue;
                auto [it, fresh] = wanted.emplace(c.subject, c.values[0]);
                if (!fresh && it->second != c.values[0])
                    return false;
            }
        }
        return true;
    }

    void check_condition(const Condition& c, const Step* owner) {
        if (c.kind == Condition::Kind::kField && !known_field(c.subject)) {
            add(c.pointer + "/field", "unknown field '" + c.subject + "'");
        }
        if (c.kind == Condition::Kind::kDecision) {
            const Step* d = pb_.step(c.subject);
            if (d == nullptr) {
                add(c.pointer + "/decision", "unknown decision step '" + c.subject + "'");
            } else if (d->type != StepType::kDecision) {
                add(c.pointer + "/decision", "step '" + c.subject + "' is not a decision");
            } else {
                for (const auto& v : c.values) {
                    if (std::find(d->options.begin(), d->options.end(), v) == d->options.end()) {
                        add(
                            c.pointer, "decision " + c.subject + " has no option '" + v +
                                           "' (options: " +
                                           [&] {
                                               std::string o;
                                               for (const auto& x : d->options)
                                                   o += (o.empty() ? "" : ", ") + x;
                                               return o;
                                           }() +
                                           ")");
                    }
                }
                if (owner != nullptr && ancestors(*owner).count(d->id) == 0) {
                    add(c.pointer, "step " + owner->id + " uses decision " + d->id +
                                       " but does not come after it (add it to `after`)");
                }
            }
        }
        for (const auto& child : c.children)
            check_condition(child, owner);
    }

    void check_conditions() {
        if (pb_.match)
            check_condition(*pb_.match, nullptr);
        for (const auto& s : pb_.steps) {
            if (s.when)
                check_condition(*s.when, &s);
        }
        for (const auto& e : pb_.escalation) {
            if (e.when)
                check_condition(*e.when, nullptr);
        }
    }

    void check_escalations() {
        std::set<std::string> ids;
        for (const auto& e : pb_.escalation) {
            if (!ids.insert(e.id).second)
                add(e.pointer + "/id", "duplicate escalation id '" + e.id + "'");
            check_target(e.notify, e.pointer + "/notify");
            if (e.notify.empty())
                add(e.pointer + "/notify", "escalation " + e.id + " notifies nobody");
            for (std::size_t k = 0; k < e.steps.size(); ++k) {
                if (pb_.step(e.steps[k]) == nullptr) {
                    add(e.pointer + "/overdue/" + std::to_string(k),
                        "unknown step '" + e.steps[k] + "'");
                } else if (!pb_.step(e.steps[k])->due) {
                    add(e.pointer + "/overdue/" + std::to_string(k),
                        "step '" + e.steps[k] + "' has no due time, so it is never overdue");
                }
            }
        }
    }

    void check_templates() {
        auto check = [&](const std::string& t, const std::string& pointer) {
            if (t.empty())
                return;
            if (auto err = template_error(t); !err.empty())
                add(pointer, "invalid template: " + err);
        };
        for (const auto& s : pb_.steps) {
            check(s.message, s.pointer + "/message");
            check(s.http.url, s.pointer + "/http/url");
            check(s.http.body, s.pointer + "/http/body");
        }
        for (const auto& e : pb_.escalation)
            check(e.message, e.pointer + "/message");
    }

    void check_rto() {
        if (ctx_.catalog == nullptr || !in_cycle_.empty() || !broken_.empty())
            return;
        std::set<std::string> services;
        for (const auto& s : pb_.steps)
            services.insert(s.recovers.begin(), s.recovers.end());
        for (const auto& id : services) {
            const Service* svc = ctx_.catalog->service(id);
            if (svc == nullptr)
                continue;
            std::vector<std::string> path;
            const Duration cp = critical_path(pb_, id, &path);
            if (cp > svc->rto) {
                std::string chain;
                for (const auto& p : path)
                    chain += (chain.empty() ? "" : " → ") + p;
                const Step* last = pb_.step(path.empty() ? "" : path.back());
                add(last != nullptr ? last->pointer : "",
                    "warning: RTO not feasible for " + svc->name + " (" + id + "): critical path " +
                        format_duration(cp) + " > RTO " + format_duration(svc->rto) + " (" + chain +
                        ")",
                    true);
            }
        }
    }

    const Playbook& pb_;
    const LintContext& ctx_;
    std::vector<Finding> out_;
    std::set<std::string> broken_;
    std::set<std::string> in_cycle_;
};

}  // namespace

std::string format_finding(const Finding& f) {
    return f.file + ":" + std::to_string(f.line) + ": " + f.message;
}

std::vector<Finding> lint_playbook(const Playbook& pb, const LintContext& ctx) {
    return Linter(pb, ctx).run();
}

std::vector<Finding> lint_library(const Catalog& catalog, const std::vector<Playbook>& playbooks) {
    std::vector<Finding> out;
    auto line_of = [&](const std::string& service) {
        auto it = catalog.lines.find("service:" + service);
        return it == catalog.lines.end() ? 1 : it->second;
    };
    auto find = [&](const std::string& id) -> const Playbook* {
        for (const auto& p : playbooks) {
            if (p.id == id)
                return &p;
        }
        return nullptr;
    };
    for (const auto& svc : catalog.services) {
        if (!svc.playbook.empty() && find(svc.playbook) == nullptr) {
            out.push_back({catalog.file, line_of(svc.id),
                           "service " + svc.id + ": playbook '" + svc.playbook +
                               "' is not among the linted playbooks"});
            continue;
        }
        // Naming a playbook is a decision, even the default one; silence is what is reported.
        bool covered = !svc.playbook.empty();
        for (const auto& p : playbooks) {
            if (covered || p.id == catalog.default_playbook)
                continue;
            covered = std::find(p.services.begin(), p.services.end(), svc.id) != p.services.end();
            for (const auto& st : p.steps) {
                covered = covered || std::find(st.recovers.begin(), st.recovers.end(), svc.id) !=
                                         st.recovers.end();
            }
        }
        if (!covered) {
            out.push_back({catalog.file, line_of(svc.id),
                           "service " + svc.id + " (" + svc.name +
                               "): no playbook covers it, so its alerts only get the default "
                               "playbook; name one with `playbook:` or list it in a playbook's "
                               "`services:`"});
        }
    }
    return out;
}

Duration critical_path(const Playbook& pb, const std::string& service,
                       std::vector<std::string>* path) {
    std::map<std::string, std::pair<Duration, std::string>>
        memo;  // finish, predecessor on the path
    std::function<Duration(const Step&, int)> finish = [&](const Step& s, int depth) -> Duration {
        if (auto it = memo.find(s.id); it != memo.end())
            return it->second.first;
        if (depth > 512)
            return 0;
        Duration start = 0;
        std::string pred;
        for (const auto& d : s.after) {
            const Step* dep = pb.step(d);
            if (dep == nullptr)
                continue;
            const Duration f = finish(*dep, depth + 1);
            if (pred.empty() || f > start) {
                start = std::max(start, f);
                pred = d;
            }
        }
        Duration end = start + s.planned();
        if (!s.estimate && s.due && s.due_from_start)
            end = std::max(start, *s.due);
        memo[s.id] = {end, pred};
        return end;
    };
    Duration best = 0;
    std::string last;
    for (const auto& s : pb.steps) {
        if (std::find(s.recovers.begin(), s.recovers.end(), service) == s.recovers.end())
            continue;
        const Duration f = finish(s, 0);
        if (f >= best) {
            best = f;
            last = s.id;
        }
    }
    if (path != nullptr) {
        path->clear();
        for (std::string cur = last; !cur.empty(); cur = memo[cur].second)
            path->insert(path->begin(), cur);
    }
    return best;
}

}  // namespace sonae::core
