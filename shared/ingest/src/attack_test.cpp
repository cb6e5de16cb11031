// Category inference from what SIEMs already say (docs/ingest.md, "Category rules"): MITRE ATT&CK
// technique ids before keywords, the most specific id first, and the `mitre.*` labels every
// format that carries ATT&CK data fills the same way.
#include "test_util.hpp"
#include "util.hpp"

namespace sonae::ingest {
namespace {

using core::Category;
using detail::infer_category;
using detail::technique_ids;
using nlohmann::json;
using test::adapt_ok;

TEST_CASE("attack: technique ids are found with their sub-technique, once, upper-cased") {
    CHECK(technique_ids("T1003.001 OS Credential Dumping: LSASS Memory") ==
          std::vector<std::string>{"T1003.001"});
    CHECK(technique_ids("t1021.002,T1570\nT1021.002") ==
          std::vector<std::string>{"T1021.002", "T1570"});
    // Not ids: longer numbers, words that happen to start with t and digits, a dangling dot.
    CHECK(technique_ids("T10035 xt1003 T1003a T100 T1003.") == std::vector<std::string>{"T1003"});
    CHECK(technique_ids("").empty());
}

TEST_CASE("attack: technique ids decide before keywords, the earliest row wins") {
    // The title alone says account compromise ("credential"); the technique says more.
    CHECK(infer_category("Credential theft\nT1003.001") == Category::kIntrusion);
    CHECK(infer_category("Suspicious login\nT1078.004") == Category::kAccountCompromise);
    // A sub-technique row beats its parent: an application access token is a cloud account.
    CHECK(infer_category("T1550.001") == Category::kAccountCompromise);
    CHECK(infer_category("T1550.002") == Category::kIntrusion);
    // Several techniques: lateral movement with a valid account is an intrusion; encryption wins.
    CHECK(infer_category("T1078,T1021.001") == Category::kIntrusion);
    CHECK(infer_category("T1003,T1486") == Category::kRansomware);
    CHECK(infer_category("Inbox rule\nT1114.003") == Category::kAccountCompromise);
    CHECK(infer_category("T1491.002 Defacement: External") == Category::kIntrusion);
    // Unknown techniques leave the decision to the keywords.
    CHECK(infer_category("T1204.002 ransom note") == Category::kRansomware);
    CHECK(infer_category("T9999") == Category::kOther);
}

TEST_CASE("attack: keywords for the new playbooks, without changing the old ones") {
    CHECK(infer_category("Mimikatz sekurlsa::logonpasswords") == Category::kIntrusion);
    CHECK(infer_category("Credential dumping tool executed") == Category::kIntrusion);
    CHECK(infer_category("mitre_lateral_movement") == Category::kIntrusion);
    CHECK(infer_category("公式サイトのトップページ改ざんを検知") == Category::kIntrusion);
    CHECK(infer_category("WebsiteDefaced") == Category::kIntrusion);
    CHECK(infer_category("Impossible travel activity") == Category::kAccountCompromise);
    CHECK(infer_category("Suspicious inbox forwarding rule") == Category::kAccountCompromise);
    CHECK(infer_category("BlackboxProbeFailed") == Category::kOutage);
    CHECK(infer_category("LGWAN 回線断") == Category::kOutage);
    CHECK(infer_category("Vendor data centre outage") == Category::kOutage);
    // Unchanged: brute force is an attempt, a bare "credential" still a compromise, vendors.
    CHECK(infer_category("sshd brute force\nCredential Access") == Category::kIntrusion);
    CHECK(infer_category("credential stuffing success") == Category::kAccountCompromise);
    CHECK(infer_category("Vendor breach notification") == Category::kVendorIncident);
    CHECK(infer_category("Suspicious PowerShell download cradle") == Category::kOther);
}

TEST_CASE("attack: Elastic threat mapping becomes the category and the mitre labels") {
    auto e = adapt_ok(Format::kElastic, json::parse(R"({
        "kibana.alert.rule.name":"Potential Credential Access via LSASS Memory Dump",
        "host":{"name":"pc-zeimu-007"},
        "kibana.alert.rule.threat":[{"framework":"MITRE ATT&CK",
            "tactic":{"id":"TA0006","name":"Credential Access"},
            "technique":[{"id":"T1003","name":"OS Credential Dumping",
                          "subtechnique":[{"id":"T1003.001","name":"LSASS Memory"}]}]}]})"))[0];
    CHECK(e.category == Category::kIntrusion);
    CHECK(e.labels.at("mitre.technique") == "T1003,T1003.001");
    CHECK(e.labels.at("mitre.tactic") == "Credential Access");
    // ECS threat fields of the document count the same way.
    e = adapt_ok(Format::kElastic, json::parse(R"({"rule":{"name":"Endpoint detection"},
        "threat":{"tactic":{"name":["Lateral Movement"]},"technique":{"id":["T1021.002"]}}})"))[0];
    CHECK(e.category == Category::kIntrusion);
    CHECK(e.labels.at("mitre.technique") == "T1021.002");
    CHECK(e.labels.at("mitre.tactic") == "Lateral Movement");
}

TEST_CASE("attack: Alertmanager reads mitre labels and Falco tags, Splunk its annotations") {
    auto e = adapt_ok(Format::kAlertmanager, json::parse(R"({"status":"firing","alerts":[{
        "status":"firing","labels":{"alertname":"Falco","rule":"Read sensitive file untrusted",
        "priority":"Warning","tags":"T1555,container,host,mitre_credential_access"}}]})"))[0];
    CHECK(e.category == Category::kIntrusion);  // the tactic tag; T1555 has no row
    CHECK(e.labels.at("mitre.technique") == "T1555");
    CHECK(e.labels.at("mitre.tactic") == "credential access");
    e = adapt_ok(Format::kAlertmanager, json::parse(R"({"status":"firing","alerts":[{
        "labels":{"alertname":"SignInAnomaly","mitre_technique":"T1078.004",
                  "mitre_tactic":"Initial Access"}}]})"))[0];
    CHECK(e.category == Category::kAccountCompromise);
    CHECK(e.labels.at("mitre.technique") == "T1078.004");
    CHECK(e.labels.at("mitre.tactic") == "Initial Access");

    e = adapt_ok(Format::kSplunk,
                 json::parse(R"({"search_name":"ESCU - Detect PsExec With accepteula Flag - Rule",
        "result":{"dest":"lgfs-01","annotations.mitre_attack":["T1021.002","T1569.002"],
                  "annotations.mitre_attack.mitre_tactic":["lateral-movement","execution"]}})"))[0];
    CHECK(e.category == Category::kIntrusion);
    CHECK(e.labels.at("mitre.technique") == "T1021.002,T1569.002");
    CHECK(e.labels.at("mitre.tactic") == "lateral-movement,execution");
    // No ATT&CK data: no mitre labels at all.
    e = adapt_ok(Format::kSplunk, json::parse(R"({"search_name":"x","result":{"dest":"h"}})"))[0];
    CHECK(e.labels.count("mitre.technique") == 0);
    CHECK(e.labels.count("mitre.tactic") == 0);
}

}  // namespace
}  // namespace sonae::ingest
