#include <doctest/doctest.h>

#include <sonae/core/exercise.hpp>
#include <sonae/core/incident.hpp>

using namespace sonae::core;

TEST_CASE("drill clock: N times the wall clock, frozen while paused, wall times round up") {
    ExerciseClock c;
    c.started_at = 1'000'000;
    c.speed = 600;
    CHECK(c.drill_time(1'000'000) == 1'000'000);
    CHECK(c.drill_time(1'000'100) == 1'000'000 + 60'000);  // 100 ms wall = 1 drill minute
    CHECK(c.drill_time(999'000) == 1'000'000);             // before the start: the start
    // The wall time of a drill time, and back: never early.
    for (TimePoint drill : {1'000'000 + 1, 1'000'000 + 60'000, 1'000'000 + 3'600'007}) {
        const TimePoint wall = c.wall_time(drill);
        CHECK(c.drill_time(wall) >= drill);
        CHECK(c.drill_time(wall - 1) < drill);
    }
    // Paused at +1 s wall: drill time stands still at +600 s.
    c.paused_at = 1'001'000;
    c.state = ExerciseState::kPaused;
    CHECK(c.drill_time(1'005'000) == 1'000'000 + 600'000);
    // Resumed after 4 s: the pause no longer counts.
    c.paused_at = 0;
    c.paused_total = 4'000;
    c.state = ExerciseState::kRunning;
    CHECK(c.drill_time(1'005'000) == 1'000'000 + 600'000);
    CHECK(c.drill_time(1'006'000) == 1'000'000 + 1'200'000);
    CHECK(c.wall_time(1'000'000 + 1'200'000) == 1'006'000);
}

TEST_CASE("drill namespaces and ids: a drill's incidents name it, its tenant sees them") {
    const std::string ns = exercise_namespace("default", "ex-20261202-0001");
    CHECK(ns == "default~ex-20261202-0001");
    CHECK(base_tenant(ns) == "default");
    CHECK(base_tenant("kita") == "kita");
    CHECK(exercise_of(ns) == "ex-20261202-0001");
    CHECK_FALSE(exercise_of("kita"));
    const std::string inc = incident_id_prefix(ns) + "INC-20260401-0001";
    CHECK(tenant_of_incident(inc) == ns);
    CHECK(tenant_of_incident("kita~ex-20261202-0001.INC-20260401-0001") == "kita~ex-20261202-0001");
    CHECK_FALSE(tenant_of_incident("default~nope.INC-20260401-0001"));
    CHECK_FALSE(tenant_of_incident("Kita~ex-20261202-0001.INC-20260401-0001"));
    CHECK(public_exercise_id("default", "ex-20261202-0001") == "ex-20261202-0001");
    CHECK(public_exercise_id("kita", "ex-20261202-0001") == "kita.ex-20261202-0001");
    CHECK(parse_public_exercise_id("kita.ex-20261202-0001") ==
          std::pair<std::string, std::string>{"kita", "ex-20261202-0001"});
    CHECK(parse_public_exercise_id("ex-20261202-0001")->first == "default");
    CHECK_FALSE(parse_public_exercise_id("default.ex-20261202-0001"));
    CHECK_FALSE(parse_public_exercise_id("ex-2026120-0001"));
    CHECK_FALSE(parse_public_exercise_id("kita.INC-20261202-0001"));
}
