// The loader against real files: errors name the file and line, schemas load once, a tenant's
// messages.yaml overrides texts key by key, and tenants/<name>/ become tenants.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include <sonae/loader/loader.hpp>

using namespace sonae;

namespace {

const loader::Schemas& schemas() {
    static const loader::Schemas s = [] {
        auto r = loader::Schemas::load(SONAE_SOURCE_DIR "/schemas");
        REQUIRE(r);
        return std::move(r.value());
    }();
    return s;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("sonae-loader-" + std::to_string(::getpid()) + "-" +
                std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        const auto p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
};

constexpr const char* kPlaybook = R"(id: p
title: p
match: {field: category, equals: malware}
roles: [csirt]
steps:
  - {id: s1, title: first, owner: csirt}
)";

}  // namespace

TEST_CASE("files that do not exist or do not parse are refused with file:line") {
    auto missing = loader::read_file("/nonexistent/sonae");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.rfind("/nonexistent/sonae:", 0) == 0);
    CHECK_FALSE(loader::load_yaml_file("/nonexistent/file.yaml"));
    TempDir d;
    auto bad = loader::load_yaml_file(d.write("bad.yaml", "a: 1\nb: [\n"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("bad.yaml:") != std::string::npos);
    auto schema = loader::load_schema(d.write("s.json", "{not json"));
    REQUIRE_FALSE(schema);
    CHECK(schema.error().message.find("s.json") != std::string::npos);
    CHECK_FALSE(loader::Schemas::load(d.path.string()));
}

TEST_CASE("a playbook directory skips catalog.yaml and messages.yaml and reports every error") {
    TempDir d;
    d.write("a.yaml", kPlaybook);
    d.write("catalog.yaml", "tenant: default\nservices: []\n");
    d.write("messages.yaml", "messages: {opened.title: \"x\"}\n");
    auto ok = loader::load_playbook_dir(d.path.string(), schemas());
    REQUIRE(ok);
    CHECK(ok->size() == 1);
    d.write("b.yaml", "id: b\ntitle: b\nsteps: nope\n");
    d.write("c.yaml", "id: c\n");
    auto bad = loader::load_playbook_dir(d.path.string(), schemas());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("b.yaml:3:") != std::string::npos);
    CHECK(bad.error().message.find("c.yaml:") != std::string::npos);
}

TEST_CASE("messages.yaml overrides texts, unknown keys and broken templates are refused") {
    TempDir d;
    d.write("p.yaml", kPlaybook);
    d.write("messages.yaml",
            "messages:\n  opened.title: \"【{{severity}}】{{title}}\"\n  exercise_prefix: "
            "\"[DRILL] \"\n");
    auto lib = loader::load_library(d.path.string(), "", schemas());
    REQUIRE(lib);
    CHECK(lib.value()->messages.get("opened.title") == "【{{severity}}】{{title}}");
    CHECK(lib.value()->messages.get("resolved.title") ==
          core::Messages::defaults().get("resolved.title"));
    core::Event e;
    e.id = "e1";
    e.title = "t";
    e.category = core::Category::kMalware;
    e.severity = core::Severity::kHigh;
    auto tr = lib.value()->engine->open(e, *lib.value()->playbooks.find("p"), "INC-1", 0);
    REQUIRE(tr);
    REQUIRE(!tr->notifications.empty());
    CHECK(tr->notifications[0].title == "【high】t");

    d.write("messages.yaml", "messages:\n  opened.title: x\n  nosuch.key: y\n");
    auto unknown = loader::load_library(d.path.string(), "", schemas());
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message.find("messages.yaml:3: unknown message key 'nosuch.key'") !=
          std::string::npos);
    d.write("messages.yaml", "messages:\n  opened.title: \"{{#open}}\"\n");
    auto broken = loader::load_library(d.path.string(), "", schemas());
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message.find("messages.yaml:2: invalid template") != std::string::npos);
}

TEST_CASE("tenants/<name>/ are libraries of their own, a catalog override replaces the default's") {
    TempDir d;
    d.write("p.yaml", kPlaybook);
    d.write("tenants/town-b/q.yaml", std::string(kPlaybook).replace(4, 1, "q"));
    const std::string override_path =
        d.write("override/catalog.yaml",
                "tenant: default\nroles: [{id: csirt, name: CSIRT}]\nservices:\n"
                "  - {id: web, name: Web, rto: 4h}\n");
    auto libs = loader::load_libraries(d.path.string(), override_path, schemas());
    REQUIRE(libs);
    REQUIRE(libs->size() == 2);
    CHECK(libs->at("default")->catalog.service("web") != nullptr);
    CHECK(libs->at("town-b")->playbooks.find("q") != nullptr);
    CHECK(libs->at("town-b")->catalog.service("web") == nullptr);
    auto without =
        loader::load_libraries(d.path.string(), d.path.string() + "/none.yaml", schemas());
    REQUIRE(without);
    CHECK(without->at("default")->catalog.service("web") == nullptr);
}
