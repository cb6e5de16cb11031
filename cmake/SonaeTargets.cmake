# Helpers so that every library and test is declared the same way.

# sonae_library(NAME SOURCES... [DEPS ...]) -> target sonae_NAME with include/ public.
function(sonae_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sonae_${name} STATIC ${ARG_SOURCES})
  target_include_directories(sonae_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(sonae_${name} PUBLIC ${ARG_DEPS} PRIVATE sonae_options sonae_warnings ${ARG_PRIVATE_DEPS})
  target_compile_features(sonae_${name} PUBLIC cxx_std_20)
  if(SONAE_SANITIZE)
    target_link_libraries(sonae_${name} INTERFACE sonae_options)
  endif()
endfunction()

# sonae_test(NAME LABEL SOURCES... DEPS...) -> doctest binary registered in ctest with a label.
function(sonae_test name label)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT SONAE_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} doctest::doctest sonae_options sonae_warnings)
  target_compile_definitions(${name} PRIVATE
    SONAE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" SONAE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT ${ARG_TIMEOUT})
endfunction()
