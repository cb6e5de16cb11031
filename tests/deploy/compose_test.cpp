// compose.yaml and the Dockerfile, checked without a Docker engine: the five services, their
// images, ports, health checks, volumes and environment, and that every SONAE_* variable they set
// is one sonae reads (the list below, which must be the table of docs/operations.md).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

namespace {

const std::string kRoot = SONAE_SOURCE_DIR;

// Every environment variable sonae reads: config::read_environment, the clients' TLS settings,
// the CLI, and the ${env:…} references of config/dev. docs/operations.md documents exactly these.
const std::set<std::string> kVariables = {
    "SONAE_HTTP_ADDR",
    "SONAE_REDIS_URL",
    "SONAE_REDIS_SENTINELS",
    "SONAE_REDIS_SENTINEL_MASTER",
    "SONAE_REDIS_WAIT_REPLICAS",
    "SONAE_AMQP_URL",
    "SONAE_CONFIG_DIR",
    "SONAE_PLAYBOOK_DIR",
    "SONAE_SCHEMA_DIR",
    "SONAE_PREFIX",
    "SONAE_WORKERS",
    "SONAE_HTTP_THREADS",
    "SONAE_MAX_CONNECTIONS",
    "SONAE_LOG_LEVEL",
    "SONAE_DRAIN_SECONDS",
    "SONAE_ADMIN_ADDR",
    "SONAE_TLS_CERT",
    "SONAE_TLS_KEY",
    "SONAE_AMQP_CA",
    "SONAE_REDIS_CA",
    "SONAE_URL",
    "SONAE_TOKEN",
    "SONAE_DEV_WEBHOOK_URL",
    "SONAE_PUBLIC_URL",
};

std::string read(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// yaml-cpp does not apply merge keys (`<<: *anchor`): a map with its merged entries, its own
// entries winning.
YAML::Node merged(const YAML::Node& node) {
    if (!node.IsMap())
        return node;
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : node) {
        if (kv.first.as<std::string>() != "<<")
            out[kv.first.as<std::string>()] = kv.second;
    }
    auto merge_from = [&](const YAML::Node& source) {
        for (const auto& kv : merged(source)) {
            const std::string key = kv.first.as<std::string>();
            if (!out[key])
                out[key] = kv.second;
        }
    };
    if (const YAML::Node base = node["<<"]) {
        if (base.IsSequence()) {
            for (const auto& b : base)
                merge_from(b);
        } else {
            merge_from(base);
        }
    }
    return out;
}

struct Compose {
    YAML::Node root = YAML::LoadFile(kRoot + "/compose.yaml");
    YAML::Node service(const std::string& name) const {
        const YAML::Node s = root["services"][name];
        REQUIRE_MESSAGE(s, "compose.yaml has no service " << name);
        return merged(s);
    }
    std::map<std::string, std::string> environment(const std::string& name) const {
        std::map<std::string, std::string> env;
        for (const auto& kv : merged(service(name)["environment"]))
            env[kv.first.as<std::string>()] = kv.second.as<std::string>();
        return env;
    }
    std::vector<std::string> strings(const YAML::Node& seq) const {
        std::vector<std::string> out;
        for (const auto& v : seq)
            out.push_back(v.as<std::string>());
        return out;
    }
};

const std::vector<std::string> kServices = {"gateway", "orchestrator", "notifier"};

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

// The port of a host:port.
std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

// The host of a scheme://[user[:password]@]host[:port][/path] URL.
std::string host_of(const std::string& url) {
    static const std::regex kUrl(R"(^[a-z]+://(?:[^@/]*@)?([^:/]+)(?::\d+)?(?:/.*)?$)");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(url, m, kUrl), "not a URL: " << url);
    return m[1];
}

}  // namespace

TEST_CASE("compose.yaml: Redis, RabbitMQ and the three services, each with a health check") {
    const Compose c;
    std::set<std::string> names;
    for (const auto& kv : c.root["services"])
        names.insert(kv.first.as<std::string>());
    CHECK(names ==
          std::set<std::string>{"redis", "rabbitmq", "gateway", "orchestrator", "notifier"});

    CHECK(c.service("redis")["image"].as<std::string>().rfind("redis:", 0) == 0);
    CHECK(std::regex_match(c.service("rabbitmq")["image"].as<std::string>(),
                           std::regex(R"(rabbitmq:3(\.\d+)*-management)")));
    for (const auto& s : kServices) {
        INFO(s);
        const YAML::Node svc = c.service(s);
        CHECK(svc["build"].as<std::string>() == ".");
        CHECK(svc["image"]);
        CHECK(c.strings(svc["command"]) == std::vector<std::string>{"sonae-" + s});
        // Redis and RabbitMQ healthy before a service starts.
        CHECK(svc["depends_on"]["redis"]["condition"].as<std::string>() == "service_healthy");
        CHECK(svc["depends_on"]["rabbitmq"]["condition"].as<std::string>() == "service_healthy");
        // A graceful stop takes under 10 s; Docker must not kill it first (default: 10 s).
        CHECK(svc["stop_grace_period"].as<std::string>() == "15s");
    }

    for (const auto& name : names) {
        INFO(name);
        const YAML::Node hc = c.service(name)["healthcheck"];
        REQUIRE(hc);
        const auto test = c.strings(hc["test"]);
        REQUIRE(test.size() >= 2);
        CHECK(test[0] == "CMD");
        CHECK(hc["interval"]);
        CHECK(hc["retries"].as<int>() > 0);
    }
    CHECK(joined(c.strings(c.service("redis")["healthcheck"]["test"])) == "CMD redis-cli ping");
    CHECK(c.strings(c.service("rabbitmq")["healthcheck"]["test"])[1] == "rabbitmq-diagnostics");
    // The services are checked where they listen: the gateway's readiness (503 while draining),
    // the admin listeners' /healthz.
    const std::map<std::string, std::pair<std::string, std::string>> probes = {
        {"gateway", {"SONAE_HTTP_ADDR", "/readyz"}},
        {"orchestrator", {"SONAE_ADMIN_ADDR", "/healthz"}},
        {"notifier", {"SONAE_ADMIN_ADDR", "/healthz"}}};
    for (const auto& [s, probe] : probes) {
        INFO(s);
        const auto env = c.environment(s);
        REQUIRE(env.count(probe.first) == 1);
        const std::string port = port_of(env.at(probe.first));
        CHECK(env.at(probe.first).rfind("0.0.0.0:", 0) == 0);  // reachable from outside
        CHECK(joined(c.strings(c.service(s)["healthcheck"]["test"])) ==
              "CMD curl -sf http://127.0.0.1:" + port + probe.second);
    }
    CHECK(port_of(c.environment("orchestrator").at("SONAE_ADMIN_ADDR")) == "9101");
    CHECK(port_of(c.environment("notifier").at("SONAE_ADMIN_ADDR")) == "9102");
}

TEST_CASE("compose.yaml: ports only on 127.0.0.1, the management UI and the gateway published") {
    const Compose c;
    std::set<std::string> published;
    for (const auto& kv : c.root["services"]) {
        const YAML::Node ports = c.service(kv.first.as<std::string>())["ports"];
        if (!ports)
            continue;
        for (const auto& p : c.strings(ports)) {
            INFO(p);
            CHECK(p.rfind("127.0.0.1:", 0) == 0);  // development credentials stay on the machine
            published.insert(p);
        }
    }
    CHECK(published.count("127.0.0.1:8080:8080") == 1);
    CHECK(published.count("127.0.0.1:15672:15672") == 1);
    CHECK(published.count("127.0.0.1:9101:9101") == 1);
    CHECK(published.count("127.0.0.1:9102:9102") == 1);
}

TEST_CASE("compose.yaml: Redis appends to its AOF, and both servers keep data in named volumes") {
    const Compose c;
    const auto command = c.strings(c.service("redis")["command"]);
    const auto aof = std::find(command.begin(), command.end(), "--appendonly");
    REQUIRE(aof != command.end());
    REQUIRE(aof + 1 != command.end());
    CHECK(*(aof + 1) == "yes");

    std::set<std::string> declared;
    for (const auto& kv : c.root["volumes"])
        declared.insert(kv.first.as<std::string>());
    const std::map<std::string, std::string> data = {{"redis", "/data"},
                                                     {"rabbitmq", "/var/lib/rabbitmq"}};
    for (const auto& [s, path] : data) {
        INFO(s);
        bool named = false;
        for (const auto& v : c.strings(c.service(s)["volumes"])) {
            const auto colon = v.find(':');
            named =
                named || (colon != std::string::npos && declared.count(v.substr(0, colon)) == 1 &&
                          v.substr(colon + 1) == path);
        }
        CHECK(named);
    }
    // RabbitMQ finds its data again only under the same node name (rabbit@<hostname>).
    CHECK(c.service("rabbitmq")["hostname"].as<std::string>() == "rabbitmq");
}

TEST_CASE("compose.yaml: the services reach Redis and RabbitMQ by their compose names") {
    const Compose c;
    for (const auto& s : kServices) {
        INFO(s);
        const auto env = c.environment(s);
        REQUIRE(env.count("SONAE_REDIS_URL") == 1);
        REQUIRE(env.count("SONAE_AMQP_URL") == 1);
        CHECK(host_of(env.at("SONAE_REDIS_URL")) == "redis");
        CHECK(host_of(env.at("SONAE_AMQP_URL")) == "rabbitmq");
        CHECK(port_of(env.at("SONAE_REDIS_URL")) == "6379");
        CHECK(port_of(env.at("SONAE_AMQP_URL").substr(0, env.at("SONAE_AMQP_URL").rfind('/'))) ==
              "5672");
        for (const auto& [name, value] : env)  // a typo would be silently ignored
            CHECK_MESSAGE(kVariables.count(name) == 1, name << " is not a variable sonae reads");
    }
}

TEST_CASE("compose.yaml and the Dockerfile agree: config, playbooks and schemas where expected") {
    const Compose c;
    const std::string dockerfile = read(kRoot + "/Dockerfile");
    // COPY lines (continuations joined) that copy from the build context.
    std::string text = std::regex_replace(dockerfile, std::regex(R"(\\\n)"), " ");
    std::set<std::string> destinations;
    std::istringstream lines(text);
    int copies = 0;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string word;
        words >> word;
        if (word != "COPY")
            continue;
        std::vector<std::string> args;
        bool from_stage = false;
        while (words >> word) {
            if (word.rfind("--from=", 0) == 0)
                from_stage = true;
            else if (word.rfind("--", 0) != 0)
                args.push_back(word);
        }
        REQUIRE(args.size() >= 2);
        destinations.insert(args.back());
        if (from_stage)
            continue;
        for (std::size_t i = 0; i + 1 < args.size(); ++i) {
            INFO(line);
            CHECK(std::filesystem::exists(kRoot + "/" + args[i]));
            ++copies;
        }
    }
    CHECK(copies >= 4);
    for (const auto& s : kServices) {
        INFO(s);
        const auto env = c.environment(s);
        CHECK(destinations.count(env.at("SONAE_PLAYBOOK_DIR")) == 1);
        CHECK(destinations.count(env.at("SONAE_SCHEMA_DIR")) == 1);
        // The dev config is mounted from the checkout where SONAE_CONFIG_DIR points.
        const auto volumes = c.strings(c.service(s)["volumes"]);
        REQUIRE(volumes.size() == 1);
        CHECK(volumes[0] == "./config/dev:" + env.at("SONAE_CONFIG_DIR") + ":ro");
        CHECK(std::filesystem::is_directory(kRoot + "/config/dev"));
    }
}

TEST_CASE("docs/operations.md documents exactly the variables sonae reads") {
    const std::string docs = read(kRoot + "/docs/operations.md");
    std::set<std::string> documented;
    static const std::regex kRow(R"(^\| `(SONAE_[A-Z0-9_]+)`.*)");
    std::istringstream lines(docs);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_match(line, m, kRow))
            documented.insert(m[1]);
    }
    CHECK(documented == kVariables);
    // The development config refers only to documented variables.
    static const std::regex kRef(R"(\$\{env:(SONAE_[A-Z0-9_]+))");
    for (const auto& f : std::filesystem::directory_iterator(kRoot + "/config/dev")) {
        const std::string text = read(f.path().string());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef);
             it != std::sregex_iterator(); ++it) {
            INFO(f.path().string());
            CHECK(kVariables.count((*it)[1]) == 1);
        }
    }
    CHECK(read(kRoot + "/README.md").find("docs/operations.md") != std::string::npos);
}
